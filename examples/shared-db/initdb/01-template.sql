-- The template every env's database is copied from (CREATE DATABASE … TEMPLATE app_template).
CREATE DATABASE app_template;
\connect app_template
CREATE TABLE items (name text PRIMARY KEY);
INSERT INTO items VALUES ('seeded');
