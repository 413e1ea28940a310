-- 0001: the city's first schema: offices, their events (partitioned by
-- month of day), their current status, and a current-state view.
-- Forward-only: a later change is a new file, never an edit of this one.

-- An office as its queued registered it. instance is the random id the
-- office's queued keeps in its bbolt: a second queued claiming the same id
-- with another instance is refused (two offices configured alike).
create table offices (
	id            text primary key,
	names         jsonb not null default '{}',  -- {"uk": …, "en": …}
	timezone      text not null default '',     -- IANA
	instance      text not null,
	registered_at timestamptz not null default now(),
	last_seen_at  timestamptz not null default now()
);

-- Every office's event log, one row per queue/record.Event, no personal
-- data. Partitioned by month of day (the office-local date of the ticket's
-- day); partitions are events_YYYYMM, made by city_ensure_month (Append
-- calls it for each month of a batch) and dropped whole by retention.
-- The primary key must hold the partition key: (office, day, seq). An
-- event's day never changes once queued wrote it, so a resent event meets
-- its first copy here and adds nothing. Empty strings and zeros are NULL.
create table events (
	office     text not null,
	seq        bigint not null check (seq > 0),
	at         timestamptz not null,
	day        date not null,
	type       text not null,
	ticket     text,
	service    text,
	grp        text,
	"window"   integer,
	operator   text,
	terminal   text,
	to_service text,
	to_group   text,
	to_window  integer,
	reason     text,
	score      smallint,
	priority   integer,
	booked     boolean,
	offline    boolean,
	primary key (office, day, seq)
) partition by range (day);

-- Shipped (max seq of an office), the (office, seq) order of Events and
-- the resend check of Append. The primary key serves an office's day range.
create index events_office_seq on events (office, seq);
-- The whole city's day range within a month (stats over all offices).
create index events_day on events (day);

-- city_ensure_month makes the partition holding day d if it is missing.
-- Idempotent and safe to call from several sessions at once.
create function city_ensure_month(d date) returns text
language plpgsql as $$
declare
	lo date := date_trunc('month', d)::date;
	name text := 'events_' || to_char(lo, 'YYYYMM');
begin
	if to_regclass(name) is not null then
		return name;
	end if;
	perform pg_advisory_xact_lock(hashtext('city_ensure_month'));
	execute format('create table if not exists %I partition of events for values from (%L) to (%L)',
		name, lo, (lo + interval '1 month')::date);
	return name;
end
$$;

-- One row per office: its latest status snapshot, replaced on each send.
create table office_status (
	office       text primary key references offices (id),
	at           timestamptz not null,           -- the office's (corrected) time of the snapshot
	open         boolean not null,
	windows_open integer not null,
	waiting      jsonb not null default '{}',    -- group id -> tickets waiting
	wait_minutes jsonb not null default '{}',    -- group id -> estimated wait
	group_names  jsonb not null default '{}',    -- group id -> {"uk","en"}
	last_seq     bigint not null,                -- the office's highest seq at "at"
	received_at  timestamptz not null default now()  -- by the DB's clock: freshness
);

-- Every office's current state: who it is, its last status and how far
-- its log has been shipped.
create view city_office_state as
select o.id, o.names, o.timezone, o.instance, o.registered_at, o.last_seen_at,
	s.at, s.open, s.windows_open, s.waiting, s.wait_minutes, s.group_names, s.last_seq, s.received_at,
	coalesce((select max(e.seq) from events e where e.office = o.id), 0) as shipped_seq
from offices o
left join office_status s on s.office = o.id;
