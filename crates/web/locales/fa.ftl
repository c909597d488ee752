# Persian messages (the default). Every message here must also be in en.ftl, and the other way round:
# a unit test checks it.

site-name = پیشخوان
site-tagline = درگاه خدمات الکترونیکی استان
skip-to-content = پرش به محتوای اصلی
language-switch-label = زبان
nav-primary-label = بخش‌های اصلی
footer-about = پیشخوان بر پایهٔ مصوبهٔ یکصد و چهارمین جلسهٔ شورای عالی اداری (۱۳۸۲/۰۵/۲۵) دربارهٔ ارائهٔ خدمات الکترونیکی در استان‌ها ساخته شده است.
footer-version = نسخه
footer-source = نرم‌افزار آزاد

home-title = خدمات دستگاه‌های اجرایی استان، در یک جا
home-lead = در پیشخوان می‌بینید هر خدمت چه مراحلی دارد، چه مدارکی می‌خواهد، چقدر طول می‌کشد و چه هزینه‌ای دارد؛ فرم‌ها را می‌خوانید و دریافت می‌کنید؛ و درخواستتان را به‌صورت برخط یا در نزدیک‌ترین دفتر پیشخوان ثبت و پیگیری می‌کنید، بی‌آنکه میان اداره‌ها رفت‌وآمد کنید.
home-areas-heading = آنچه در پیشخوان هست
home-area-status-soon = به‌زودی
home-area-services = خدمات و فرم‌ها
home-area-services-text = شناسنامهٔ هر خدمت: مراحل، مدارک لازم، زمان انجام، هزینه‌ها و فرم‌های قابل دریافت.
home-area-track = پیگیری درخواست
home-area-track-text = وضعیت درخواست را با کد رهگیری و کد ملی ببینید، بدون نیاز به ورود.
home-area-me = پیشخوان من
home-area-me-text = درخواست برخط، پیش‌نویس‌ها و هر آنچه دفترها به نام شما ثبت کرده‌اند.
home-area-centres = دفاتر پیشخوان
home-area-centres-text = نزدیک‌ترین دفتر خدمات الکترونیکی که درخواست شما را ثبت می‌کند.
home-staff-heading = ورود کارکنان
home-area-counter = پیشخوان دفتر
home-area-counter-text = کاربران دفاتر: ثبت درخواست برای مراجعان با رضایت آنان، پذیرش مدارک و صدور رسید.
home-area-desk = میز کار دستگاه
home-area-desk-text = کارکنان دستگاه‌های اجرایی: کارتابل درخواست‌ها و به‌روز نگه‌داشتن شناسنامهٔ خدمات.
home-area-admin = مدیریت استان
home-area-admin-text = استانداری و مرکز عملیات شبکه: دستگاه‌ها، دفاتر، کاربران و گزارش‌ها.

error-not-found-title = این صفحه پیدا نشد
error-not-found-text = نشانی‌ای که باز کرده‌اید در پیشخوان وجود ندارد. اگر آن را تایپ کرده‌اید، دوباره بررسی کنید.
error-internal-title = متأسفیم، مشکلی پیش آمد
error-internal-text = درخواست شما انجام نشد و چیزی ذخیره نشد. چند دقیقهٔ دیگر دوباره امتحان کنید. اگر مشکل ادامه داشت، این شناسهٔ رخداد را به پشتیبانی بدهید:
error-incident-id = شناسهٔ رخداد
error-back-home = بازگشت به صفحهٔ اصلی
