-- Digi-Cadence source tables (SPEC §2), created idempotently. No foreign keys or CHECK
-- constraints on normalisedvalue: upstream loads can break them, and finding such rows is the
-- pipeline's job (data quality, SPEC §5).
CREATE TABLE IF NOT EXISTS public.categories (
    category_id integer PRIMARY KEY,
    category_name text NOT NULL UNIQUE,
    parent_category_id integer,
    description text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS public.projects (
    project_id integer PRIMARY KEY,
    project_name text NOT NULL,
    description text,
    category_id integer,
    series_group text,
    period_grain text NOT NULL DEFAULT 'month',
    start_date date NOT NULL,
    end_date date,
    status text NOT NULL DEFAULT 'active',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS public.brands (
    brand_id integer PRIMARY KEY,
    brand_name text NOT NULL UNIQUE,
    category_id integer,
    brand_type text,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS public.project_brands (
    project_id integer NOT NULL,
    brand_id integer NOT NULL,
    role text NOT NULL DEFAULT 'competitor',
    weight double precision NOT NULL DEFAULT 1.0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, brand_id)
);
CREATE TABLE IF NOT EXISTS public.metrics (
    metric_id integer PRIMARY KEY,
    project_id integer NOT NULL,
    metric_name text NOT NULL,
    display_name text,
    unit text,
    section_name text NOT NULL,
    platform_name text NOT NULL,
    metric_type text NOT NULL DEFAULT 'maximize',
    weight double precision NOT NULL DEFAULT 1.0,
    effort_cost double precision NOT NULL DEFAULT 1.0,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS public.normalisedvalue (
    id bigserial PRIMARY KEY,
    project_id integer NOT NULL,
    brand_id integer NOT NULL,
    metric_id integer NOT NULL,
    period date NOT NULL,
    normalized_value double precision,
    raw_value double precision,
    section text,
    source text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS normalisedvalue_project_updated ON public.normalisedvalue (project_id, updated_at);
CREATE TABLE IF NOT EXISTS public.business_outcomes (
    project_id integer NOT NULL,
    brand_id integer NOT NULL,
    period date NOT NULL,
    revenue numeric(18,2),
    market_share numeric(6,3),
    customer_acquisition_cost numeric(12,2),
    bestseller_rank integer,
    conversion_rate numeric(6,3),
    sales_units bigint,
    marketing_spend numeric(18,2),
    customer_lifetime_value numeric(12,2),
    brand_equity_index numeric(5,2),
    currency char(3) NOT NULL DEFAULT 'USD',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, brand_id, period)
);
