-- Several server instances deliver from one store (issue #13): a worker takes a queue by
-- leasing it (leased_by: the worker's token, until leased_until_ms), so that a queue is sent by
-- one worker of one instance at a time, and taken over by another once the lease runs out (its
-- instance died). Only the holder renews or ends a lease.
ALTER TABLE webhook_queues ADD COLUMN leased_until_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhook_queues ADD COLUMN leased_by TEXT NOT NULL DEFAULT '';
