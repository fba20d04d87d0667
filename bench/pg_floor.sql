-- The least a reservation needs: one conditional UPDATE on the week's capacity row and one
-- INSERT of the line, in one transaction (bench/registration_night.py runs it with
-- pgbench -n -c16 -j2 -T20 and the -D variables below: bench families, their carts, the weeks
-- of the workload and their capacity rows).
\set family random(:first_family, :first_family + :families - 1)
\set child :family + :child_offset
\set cart :family + :cart_offset
\set session random(:first_session, :last_session)
\set pool random(:first_pool, :last_pool)
BEGIN;
UPDATE capacity_pool SET taken = taken + 1 WHERE id = :pool AND taken < capacity;
INSERT INTO line (cart_id, person_id, session_id, status, base_price_cents, tshirt_size,
  created_at, waitlisted_at)
  VALUES (:cart, :child, :session, 'waitlisted', 9500, 'P',
  now(), now());
END;
