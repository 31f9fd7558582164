-- A number or quantity is indexed whole: every value a resource may hold (DecimalLimits: up to 100
-- significant digits, 1e-308 to 9.99e308), where DECIMAL(30, 10) held 20 digits before the point
-- and rounded to 10 after it, so that 1e29 was not indexed at all and 1e-12 was indexed as 0.
-- Unconstrained NUMERIC holds them exactly; lifting the constraint rewrites no row. Search index
-- version 14 re-indexes the values.
ALTER TABLE search_value ALTER COLUMN num TYPE NUMERIC;
