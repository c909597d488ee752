-- Article 2.1: each agency hands in its procedures, documents, forms and contact details within
-- two months of the province's plan start. Agencies' contact points, and the plan's start date
-- (a Jalali date, YYYY/MM/DD) per province.
ALTER TABLE agencies ADD COLUMN address_fa TEXT NOT NULL DEFAULT '';
ALTER TABLE agencies ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE agencies ADD COLUMN fax TEXT NOT NULL DEFAULT '';
ALTER TABLE agencies ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE agencies ADD COLUMN hours_fa TEXT NOT NULL DEFAULT '';
ALTER TABLE provinces ADD COLUMN plan_start TEXT;
