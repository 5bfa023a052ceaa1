-- OTA jobs with secure_boot key_names (#35) deliver a signed firmware (V025's signed_images) in
-- place of their image's bytes: the signed image's id, '' for a job that delivers the image.
ALTER TABLE ota_jobs ADD COLUMN signed_image_id TEXT NOT NULL DEFAULT '';
