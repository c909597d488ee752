# English messages. Every message here must also be in fa.ftl, and the other way round.

site-name = Pishkhan
site-tagline = The province's e-government service portal
skip-to-content = Skip to main content
language-switch-label = Language
nav-primary-label = Main areas
footer-about = Pishkhan implements the resolution of the Supreme Administrative Council's 104th session (16 August 2003) on delivering government services electronically in the provinces.
footer-version = Version
footer-source = Free software

home-title = Every agency's services in the province, in one place
home-lead = Pishkhan shows the steps of each service, the documents it needs, how long it takes and what it costs; lets you read and download the forms; and lets you apply and track your application online or at the nearest service centre, without going from office to office.
home-areas-heading = What Pishkhan offers
home-area-status-soon = Coming soon
home-area-services = Services and forms
home-area-services-text = Each service's card: steps, required documents, processing time, fees and downloadable forms.
home-area-track = Track an application
home-area-track-text = See where an application stands with its tracking code and national ID, without signing in.
home-area-me = My Pishkhan
home-area-me-text = Apply online, keep drafts, and see everything a centre has filed on your behalf.
home-area-centres = Service centres
home-area-centres-text = The nearest electronic service centre that can file your application.
home-staff-heading = Staff sign-in
home-area-counter = Centre counter
home-area-counter-text = Centre operators: file for walk-in citizens with their consent, take documents and print receipts.
home-area-desk = Agency desk
home-area-desk-text = Agency staff: work the application inbox and keep service cards current.
home-area-admin = Province administration
home-area-admin-text = Governorate and network operations centre: agencies, centres, users and reports.

error-not-found-title = Page not found
error-not-found-text = The address you opened does not exist on Pishkhan. If you typed it, please check it.
error-internal-title = Sorry, something went wrong
error-internal-text = Your request was not completed and nothing was saved. Please try again in a few minutes. If the problem continues, give this incident ID to support:
error-incident-id = Incident ID
error-back-home = Back to the home page

# Errors of access and forms
error-forbidden-title = This page is not for you
error-forbidden-text = The account you are signed in with cannot open this part. If you think it should, contact your unit's administrator.
error-form-expired-title = The form has expired
error-form-expired-text = This form is no longer valid (perhaps the page was left open a long time, or it was sent from elsewhere). Nothing was saved. Open the page again and send it afresh.
form-error-heading = There is a problem

# Header
nav-account-label = Your account
nav-sign-out = Sign out
nav-counter = Counter
nav-admin = Administration

# Staff sign-in
signin-title = Staff sign-in
signin-lead = Staff of agencies, service centres and the governorate sign in with a username and password.
signin-username = Username
signin-password = Password
signin-cancel = Cancel and sign out
signin-submit = Sign in
signin-citizen-link = A citizen? Sign in with your national ID and mobile number
signin-session-ended = Your session ended (nothing happened for a while, or you signed out everywhere). Please sign in again.
second-factor-title = Two-step verification
second-factor-lead = Enter the six-digit code your phone's authenticator app shows.
second-factor-enrol-lead = Your role needs two-step verification. Open your phone's authenticator app (such as Google Authenticator or FreeOTP) and scan this QR code.
second-factor-enrol-manual = If you cannot scan the QR code, type this key into the app:
second-factor-qr-alt = QR code to add the account to an authenticator app
second-factor-open-app = Open in this device's authenticator app
second-factor-code = Six-digit code
second-factor-code-hint = The code changes every 30 seconds.
second-factor-submit = Verify
password-title = New password
password-forced-lead = Your unit's administrator reset your password. Before going on, choose a password only you know.
password-current = Current password
password-new = New password
password-new-hint = At least 12 characters. A memorable phrase of several words works best.
password-confirm = New password again
password-submit = Save password
password-mismatch = The two new passwords differ. Type both again.

# Citizen sign-in
citizen-signin-title = Citizen sign-in
citizen-signin-lead = Enter your national ID and mobile number and we will text you a sign-in code. The first sign-in ties the national ID to this number.
citizen-national-id = National ID
citizen-national-id-hint = Ten digits, as on the national card.
citizen-mobile = Mobile number
citizen-mobile-hint = For example 09121234567
citizen-send-code = Send the code
citizen-code-sent = The sign-in code was sent to
citizen-code = Code from the text message
citizen-code-hint = The six-digit code is valid for three minutes.
citizen-code-submit = Sign in
citizen-code-again = No code? Ask again
citizen-staff-link = Staff? Staff sign-in

# Own pages
account-title = Your account
account-name = Name
account-username = Username
account-sessions = Open sessions
account-roles = Roles
account-second-factor = Two-step verification
account-second-factor-on = On.
account-second-factor-off = Off.
account-second-factor-enrol = Turn on two-step verification
account-security = Security
account-change-password = Change password
account-sign-out-everywhere = Sign out on every device
account-password-changed = Your password was changed and your other sessions were ended.
me-title = My Pishkhan
me-on-behalf = Filed on your behalf
me-on-behalf-lead = Every time an operator of a service centre filed something for you with your consent (the code texted to your mobile), it is listed here.
me-on-behalf-none = No centre has filed anything on your behalf yet.
me-when = When
me-centre = Centre
me-operator = Operator
me-purpose = For

# Counter
counter-title = Counter
counter-consent-heading = The citizen's consent
counter-consent-lead = Before filing for a walk-in citizen, a code is texted to the mobile registered with their national ID; they read it out to you.
counter-centre = Centre
counter-mobile-hint = Only for someone not yet registered on Pishkhan; for everyone else the code goes to the registered number.
counter-purpose = Application
counter-purpose-hint = For example "certificate of no criminal record"; it appears in the text message and on the citizen's page.
counter-send-code = Send the consent code
counter-code-sent = The consent code was sent to
counter-code = The code the citizen reads out
counter-code-hint = Six digits.
counter-confirm = Record consent
counter-consent-granted = Consent recorded.
counter-consent-until = Valid until

# Administration
admin-title = Administration
admin-users-title = Users
admin-users-text = Staff accounts in your scope: create, reset passwords, disable.
admin-users-caption = Users you manage
admin-users-none = There are no users in your scope yet.
admin-users-back = Back to the users
admin-user-status = Status
admin-user-active = Active
admin-user-disabled = Disabled
admin-user-new = New user
admin-username-hint = 3 to 40 characters: lower-case letters, digits, dots, dashes.
admin-role = Role
admin-scope = Scope
admin-scope-hint = Where the role applies; pick a suggestion or type one, such as:
admin-user-create = Create the account
admin-user-created = Account created:
admin-password-once = This is the first password; it is shown only this once. Give it to the user in person; they must change it at first sign-in.
admin-actions = Actions
admin-reset-password = Reset password
admin-password-reset-done = The password was reset and the user's sessions were ended.
admin-reset-second-factor = Reset two-step verification
admin-user-second-factor-reset-notice = Two-step verification was removed; the user enrols again at next sign-in.
admin-disable = Disable
admin-enable = Enable
admin-user-disabled-notice = The account was disabled and all its sessions ended.
admin-user-enabled-notice = The account is active again.
holidays-title = Official holidays
holidays-text = The holiday table every deadline is counted with.
holidays-lead = Every service's deadline counts business days: Fridays and these holidays are not. Lunar holidays move every year; enter each year's list here once it is officially announced.
holidays-year = Year
holidays-covered = complete list
holidays-partial = incomplete list
holidays-source = source
holidays-date = Date
holidays-name = Occasion
holidays-kind = Kind
holidays-kind-solar = Solar
holidays-kind-lunar = Lunar
holidays-import = Import or replace a list
holidays-csv = Table (CSV)
holidays-csv-hint = In the format `pishkhan holidays import` reads: date, kind (solar or lunar), Persian name, English name; and a line covered,YEAR for a complete year. The years in the table are replaced at once.
holidays-import-submit = Import
holidays-imported = Imported; years:
holidays-import-refused = Nothing was imported; fix these lines:
holidays-empty = The table holds no holidays.
