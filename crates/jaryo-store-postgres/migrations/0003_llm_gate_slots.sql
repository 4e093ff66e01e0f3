-- The LLM gate across processes: every process sharing this database also shares the model
-- server, so its slots are rows here. A holder or a waiter that stops renewing its lease (its
-- process died) is cleared by the next process that looks. Times are the database's own clock,
-- so processes on machines with skewed clocks agree.

CREATE TABLE llm_gate_slots (
    holder_id         TEXT        PRIMARY KEY,
    process           TEXT        NOT NULL,
    priority          TEXT        NOT NULL CHECK (priority IN ('interactive', 'background')),
    granted_at        TIMESTAMPTZ NOT NULL,
    lease_expires_at  TIMESTAMPTZ NOT NULL,
    -- An interactive caller elsewhere asked for this slot.
    preempt_requested BOOLEAN     NOT NULL DEFAULT false,
    -- Served by the ageing bound: not pre-empted, so background work cannot starve.
    protected         BOOLEAN     NOT NULL DEFAULT false
);

CREATE TABLE llm_gate_waiters (
    waiter_id         TEXT        PRIMARY KEY,
    process           TEXT        NOT NULL,
    priority          TEXT        NOT NULL CHECK (priority IN ('interactive', 'background')),
    queued_at         TIMESTAMPTZ NOT NULL,
    lease_expires_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX llm_gate_waiters_order ON llm_gate_waiters (queued_at, waiter_id);
