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

# Errors of access and forms
error-forbidden-title = این صفحه برای شما نیست
error-forbidden-text = با حسابی که وارد شده‌اید به این بخش دسترسی ندارید. اگر فکر می‌کنید باید داشته باشید، با مدیر واحد خود تماس بگیرید.
error-form-expired-title = فرم منقضی شده است
error-form-expired-text = این فرم دیگر معتبر نیست (شاید صفحه مدتی باز مانده بود یا از جای دیگری فرستاده شده است). چیزی ذخیره نشد. صفحه را دوباره باز کنید و از نو بفرستید.
form-error-heading = مشکلی هست

# Header
nav-account-label = حساب شما
nav-sign-out = خروج
nav-counter = پیشخوان دفتر
nav-admin = مدیریت

# Staff sign-in
signin-title = ورود کارکنان
signin-lead = کارکنان دستگاه‌ها، دفاتر پیشخوان و استانداری با نام کاربری و گذرواژه وارد می‌شوند.
signin-username = نام کاربری
signin-password = گذرواژه
signin-cancel = انصراف و خروج
signin-submit = ورود
signin-citizen-link = شهروند هستید؟ با کد ملی و شمارهٔ همراه وارد شوید
signin-session-ended = نشست شما به پایان رسید (مدتی کاری انجام نشده بود یا از همه‌جا خارج شدید). دوباره وارد شوید.
second-factor-title = تأیید دومرحله‌ای
second-factor-lead = کد شش‌رقمی‌ای را که برنامهٔ احراز هویت گوشی شما نشان می‌دهد وارد کنید.
second-factor-enrol-lead = نقش شما تأیید دومرحله‌ای می‌خواهد. برنامهٔ احراز هویت گوشی خود (مانند Google Authenticator یا FreeOTP) را باز کنید و این کد QR را بخوانید.
second-factor-enrol-manual = اگر نمی‌توانید کد QR را بخوانید، این کلید را در برنامه وارد کنید:
second-factor-qr-alt = کد QR برای افزودن حساب به برنامهٔ احراز هویت
second-factor-open-app = باز کردن در برنامهٔ احراز هویت همین دستگاه
second-factor-code = کد شش‌رقمی
second-factor-code-hint = کد هر ۳۰ ثانیه عوض می‌شود.
second-factor-submit = تأیید
password-title = گذرواژهٔ تازه
password-forced-lead = گذرواژهٔ شما را مدیر واحد از نو ساخته است. پیش از ادامه، گذرواژه‌ای برگزینید که فقط خودتان بدانید.
password-current = گذرواژهٔ کنونی
password-new = گذرواژهٔ تازه
password-new-hint = دست‌کم ۱۲ نویسه. یک عبارت چندکلمه‌ای به‌خاطرسپردنی بهترین گزینه است.
password-confirm = تکرار گذرواژهٔ تازه
password-submit = ذخیرهٔ گذرواژه
password-mismatch = دو گذرواژهٔ تازه یکی نیستند. هر دو را دوباره بنویسید.

# Citizen sign-in
citizen-signin-title = ورود شهروندان
citizen-signin-lead = کد ملی و شمارهٔ همراه خود را وارد کنید تا کد ورود برایتان پیامک شود. نخستین ورود، کد ملی را به همین شماره پیوند می‌دهد.
citizen-national-id = کد ملی
citizen-national-id-hint = ده رقم، همان‌طور که روی کارت ملی آمده است.
citizen-mobile = شمارهٔ همراه
citizen-mobile-hint = مانند ۰۹۱۲۱۲۳۴۵۶۷
citizen-send-code = فرستادن کد
citizen-code-sent = کد ورود فرستاده شد به
citizen-code = کد پیامک‌شده
citizen-code-hint = کد شش‌رقمی تا سه دقیقه معتبر است.
citizen-code-submit = ورود
citizen-code-again = کد نرسید؟ دوباره بخواهید
citizen-staff-link = از کارکنان هستید؟ ورود کارکنان

# Own pages
account-title = حساب کاربری
account-name = نام
account-username = نام کاربری
account-sessions = نشست‌های باز
account-roles = نقش‌ها
account-second-factor = تأیید دومرحله‌ای
account-second-factor-on = فعال است.
account-second-factor-off = فعال نیست.
account-second-factor-enrol = فعال کردن تأیید دومرحله‌ای
account-security = امنیت
account-change-password = تغییر گذرواژه
account-sign-out-everywhere = خروج از همهٔ دستگاه‌ها
account-password-changed = گذرواژه عوض شد و نشست‌های دیگر شما بسته شدند.
me-title = پیشخوان من
me-on-behalf = آنچه به نام شما ثبت شده است
me-on-behalf-lead = هر بار کاربر یک دفتر پیشخوان با رضایت شما (کدی که به همراهتان پیامک شد) برایتان کاری ثبت کرده است، اینجا می‌آید.
me-on-behalf-none = هنوز هیچ دفتری به نام شما کاری ثبت نکرده است.
me-when = زمان
me-centre = دفتر
me-operator = کاربر دفتر
me-purpose = برای

# Counter
counter-title = پیشخوان دفتر
counter-consent-heading = رضایت مراجع
counter-consent-lead = پیش از ثبت درخواست برای مراجع، کدی به شمارهٔ همراهی که با کد ملی او ثبت شده پیامک می‌شود؛ مراجع کد را به شما می‌گوید.
counter-centre = دفتر
counter-mobile-hint = فقط برای کسی که هنوز در پیشخوان ثبت نشده است؛ برای دیگران کد به شمارهٔ ثبت‌شده می‌رود.
counter-purpose = درخواست
counter-purpose-hint = مثلاً «گواهی عدم سوء پیشینه»؛ در پیامک و در صفحهٔ شهروند می‌آید.
counter-send-code = فرستادن کد رضایت
counter-code-sent = کد رضایت فرستاده شد به
counter-code = کدی که مراجع می‌گوید
counter-code-hint = شش رقم.
counter-confirm = ثبت رضایت
counter-consent-granted = رضایت ثبت شد.
counter-consent-until = معتبر تا

# Administration
admin-title = مدیریت
admin-users-title = کاربران
admin-users-text = حساب‌های کارکنان در قلمرو شما: ساختن، بازنشانی گذرواژه، غیرفعال کردن.
admin-users-caption = کاربرانی که مدیریت آن‌ها با شماست
admin-users-none = هنوز کاربری در قلمرو شما نیست.
admin-users-back = بازگشت به فهرست کاربران
admin-user-status = وضعیت
admin-user-active = فعال
admin-user-disabled = غیرفعال
admin-user-new = کاربر تازه
admin-username-hint = ۳ تا ۴۰ نویسه: حروف کوچک انگلیسی، رقم، نقطه، خط تیره.
admin-role = نقش
admin-scope = قلمرو
admin-scope-hint = جایی که نقش در آن اعتبار دارد؛ از پیشنهادها برگزینید یا بنویسید، مانند:
admin-user-create = ساختن حساب
admin-user-created = حساب ساخته شد:
admin-password-once = گذرواژهٔ نخست این است؛ فقط همین یک بار نشان داده می‌شود. آن را حضوری به کاربر بدهید؛ در نخستین ورود باید عوضش کند.
admin-actions = کارها
admin-reset-password = بازنشانی گذرواژه
admin-password-reset-done = گذرواژه بازنشانی شد و نشست‌های کاربر بسته شد.
admin-reset-second-factor = بازنشانی تأیید دومرحله‌ای
admin-user-second-factor-reset-notice = تأیید دومرحله‌ای برداشته شد؛ کاربر در ورود بعدی دوباره ثبتش می‌کند.
admin-disable = غیرفعال کردن
admin-enable = فعال کردن
admin-user-disabled-notice = حساب غیرفعال شد و همهٔ نشست‌هایش بسته شد.
admin-user-enabled-notice = حساب دوباره فعال شد.
holidays-title = تعطیلات رسمی
holidays-text = جدول تعطیلاتی که مهلت‌ها با آن حساب می‌شوند.
holidays-lead = مهلت همهٔ خدمات بر پایهٔ روزهای کاری حساب می‌شود: جمعه‌ها و این تعطیلات کاری نیستند. تعطیلات قمری هر سال جابه‌جا می‌شوند؛ فهرست هر سال را پس از اعلام رسمی اینجا وارد کنید.
holidays-year = سال
holidays-covered = فهرست کامل
holidays-partial = فهرست ناقص
holidays-source = منبع
holidays-date = تاریخ
holidays-name = مناسبت
holidays-kind = نوع
holidays-kind-solar = خورشیدی
holidays-kind-lunar = قمری
holidays-import = وارد کردن یا جایگزینی فهرست
holidays-csv = جدول (CSV)
holidays-csv-hint = در همان قالب پرونده‌ای که «pishkhan holidays import» می‌خواند: تاریخ، نوع (solar یا lunar)، نام فارسی، نام انگلیسی؛ و سطر covered,سال برای سالی که کامل است. سال‌هایی که در جدول می‌آیند یکجا جایگزین می‌شوند.
holidays-import-submit = وارد کردن
holidays-imported = وارد شد؛ سال‌ها:
holidays-import-refused = چیزی وارد نشد؛ این سطرها را درست کنید:
holidays-empty = جدول هیچ تعطیلی ندارد.
