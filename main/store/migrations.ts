// Versioned SQLite schema (DESIGN rule 5). Each migration runs once, in its own transaction, and bumps
// schema_version; never edit a shipped migration, append a new one.

export interface Migration {
  version: number
  description: string
  sql: string
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description:
      'datasets, interactions, texts, prompts, runs, metrics, evaluations, checkpoints, recommendations',
    sql: `
CREATE TABLE datasets (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,
  format TEXT NOT NULL,
  file_hash TEXT NOT NULL,
  data_hash TEXT NOT NULL,
  split_protocol TEXT NOT NULL,
  options_json TEXT NOT NULL,
  stats_json TEXT NOT NULL,
  synthetic INTEGER NOT NULL DEFAULT 0,
  n_users INTEGER NOT NULL,
  n_items INTEGER NOT NULL,
  n_interactions INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX datasets_file_hash ON datasets(file_hash);

CREATE TABLE users (
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  original_id TEXT NOT NULL,
  PRIMARY KEY (dataset_id, idx)
) WITHOUT ROWID;

CREATE TABLE items (
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  original_id TEXT NOT NULL,
  PRIMARY KEY (dataset_id, idx)
) WITHOUT ROWID;

-- split: 0 train, 1 val, 2 test
CREATE TABLE interactions (
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  user_idx INTEGER NOT NULL,
  item_idx INTEGER NOT NULL,
  split INTEGER NOT NULL CHECK (split IN (0, 1, 2)),
  rating REAL,
  ts REAL,
  PRIMARY KEY (dataset_id, user_idx, item_idx)
) WITHOUT ROWID;

-- kind 'review': user_idx + item_idx; 'item': item_idx; 'user': user_idx
CREATE TABLE texts (
  id INTEGER PRIMARY KEY,
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('review', 'item', 'user')),
  user_idx INTEGER,
  item_idx INTEGER,
  text TEXT NOT NULL
);
CREATE INDEX texts_dataset ON texts(dataset_id, kind, user_idx, item_idx);

CREATE TABLE prompt_templates (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  template TEXT NOT NULL,
  builtin INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (name, kind)
);

CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  config_json TEXT NOT NULL,
  seed INTEGER NOT NULL,
  data_hash TEXT NOT NULL,
  backend TEXT NOT NULL,
  app_version TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'cancelled', 'failed', 'done', 'interrupted')),
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  error TEXT
);
CREATE INDEX runs_dataset ON runs(dataset_id);

CREATE TABLE metric_series (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  stage TEXT NOT NULL,
  step INTEGER NOT NULL,
  epoch REAL NOT NULL,
  name TEXT NOT NULL,
  value REAL NOT NULL
);
CREATE INDEX metric_series_run ON metric_series(run_id, name, stage, step);

CREATE TABLE evaluations (
  id INTEGER PRIMARY KEY,
  run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  baseline TEXT,
  split TEXT NOT NULL CHECK (split IN ('val', 'test')),
  protocol TEXT NOT NULL,
  metric TEXT NOT NULL,
  value REAL NOT NULL,
  created_at TEXT NOT NULL,
  CHECK ((run_id IS NULL) <> (baseline IS NULL))
);
CREATE INDEX evaluations_run ON evaluations(run_id);
CREATE INDEX evaluations_dataset ON evaluations(dataset_id, baseline);

CREATE TABLE checkpoints (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  stage TEXT NOT NULL,
  step INTEGER NOT NULL,
  format_version INTEGER NOT NULL,
  config_json TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  n_bytes INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX checkpoints_run ON checkpoints(run_id, stage, step);

CREATE TABLE checkpoint_tensors (
  checkpoint_id INTEGER NOT NULL REFERENCES checkpoints(id) ON DELETE CASCADE,
  ord INTEGER NOT NULL,
  name TEXT NOT NULL,
  dtype TEXT NOT NULL,
  shape_json TEXT NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (checkpoint_id, ord),
  UNIQUE (checkpoint_id, name)
);

CREATE TABLE recommendations (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  user_idx INTEGER NOT NULL,
  rank INTEGER NOT NULL,
  item_idx INTEGER NOT NULL,
  score REAL NOT NULL,
  PRIMARY KEY (run_id, user_idx, rank)
) WITHOUT ROWID;
`,
  },
  {
    version: 2,
    description:
      'runs: sweep name, tags, notes; datasets and runs: deleted_at (trash, so a delete can be undone); metric points: wall-clock time',
    sql: `
ALTER TABLE runs ADD COLUMN sweep TEXT;
ALTER TABLE runs ADD COLUMN tags_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN deleted_at TEXT;
ALTER TABLE datasets ADD COLUMN deleted_at TEXT;
CREATE INDEX runs_sweep ON runs(sweep);
ALTER TABLE metric_series ADD COLUMN at_ms INTEGER;
`,
  },
]
