-- The embedded billing-system simulator: the discom's SAP-like system of bills, kept apart from
-- the portal's own tables (schema billing_sim) so that the portal reaches it only through the
-- BillingSystem interface. A production install with a real billing system leaves these empty.

CREATE SCHEMA billing_sim;

CREATE TABLE billing_sim.consumers (
  discom_code         text NOT NULL,
  consumer_no         text NOT NULL,
  subdivision_code    text NOT NULL,
  name                text NOT NULL,
  address             text NOT NULL,
  category            text NOT NULL,
  supply_type         text NOT NULL,
  sanctioned_load_va  integer NOT NULL,
  meter_no            text,
  registered_mobile   text,
  owner_pan           text,
  owner_dept_code     text,
  status              text NOT NULL,
  balance_paise       bigint NOT NULL,
  changed_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (discom_code, consumer_no)
);
CREATE INDEX consumers_changed ON billing_sim.consumers (changed_at, discom_code, consumer_no);

CREATE TABLE billing_sim.bills (
  discom_code              text NOT NULL,
  bill_no                  text NOT NULL,
  consumer_no              text NOT NULL,
  bill_month               date NOT NULL,
  bill_date                date NOT NULL,
  due_date                 date NOT NULL,
  prev_reading             integer,
  curr_reading             integer,
  units                    integer NOT NULL,
  bill_basis               text NOT NULL,
  energy_charge_paise      bigint NOT NULL,
  fixed_charge_paise       bigint NOT NULL,
  fuel_surcharge_paise     bigint NOT NULL,
  electricity_duty_paise   bigint NOT NULL,
  meter_rent_paise         bigint NOT NULL,
  current_demand_paise     bigint NOT NULL,
  arrears_paise            bigint NOT NULL,
  dps_paise                bigint NOT NULL,
  rebate_paise             bigint NOT NULL,
  advance_credit_paise     bigint NOT NULL,
  net_payable_paise        bigint NOT NULL,
  payable_after_due_paise  bigint NOT NULL,
  last_payment_paise       bigint,
  last_payment_date        date,
  status                   text NOT NULL,
  changed_at               timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (discom_code, consumer_no, bill_month)
);
CREATE INDEX bills_changed ON billing_sim.bills (changed_at, discom_code, consumer_no, bill_month);

-- Payments posted by the portal. posting_id is the portal's idempotency key: a posting sent
-- twice is acknowledged twice with the same receipt and applied once.
CREATE TABLE billing_sim.payments (
  posting_id      text PRIMARY KEY,
  discom_code     text NOT NULL,
  consumer_no     text NOT NULL,
  amount_paise    bigint NOT NULL CHECK (amount_paise > 0),
  paid_at         timestamptz NOT NULL,
  mode            text NOT NULL,
  reference       text NOT NULL,
  sim_receipt_no  text NOT NULL UNIQUE,
  received_at     timestamptz NOT NULL DEFAULT now()
);
CREATE SEQUENCE billing_sim.receipt_seq;

-- Fault injection for tests and demos: the simulator refuses calls until down_until.
CREATE TABLE billing_sim.control (
  id          integer PRIMARY KEY CHECK (id = 1),
  down_until  timestamptz
);
INSERT INTO billing_sim.control (id) VALUES (1);
