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
