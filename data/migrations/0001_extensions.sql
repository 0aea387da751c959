-- Case-insensitive text for e-mail addresses and UUID generation.
CREATE EXTENSION IF NOT EXISTS citext;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
