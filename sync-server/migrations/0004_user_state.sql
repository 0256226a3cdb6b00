-- Documents that belong to one person (their read positions and settings): only they open them.
ALTER TABLE documents ADD COLUMN owner INTEGER REFERENCES users(id);
