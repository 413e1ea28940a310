-- An office's role may append events but does not own the events table,
-- and only the owner may create its monthly partitions: the function that
-- makes them runs with its owner's (cityd's role's) rights, on a fixed
-- search_path, and only the roles granted EXECUTE may call it
-- (docs/city.md: grant execute on function city_ensure_month(date) to
-- the offices' role).
alter function city_ensure_month(date) security definer set search_path = public, pg_temp;
revoke execute on function city_ensure_month(date) from public;
