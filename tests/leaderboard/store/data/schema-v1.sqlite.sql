-- The store's schema 1 (misme-leaderboard before issue 14, commit ae4aacc) as its
-- create_all made it on sqlite; the migration tests create a database from it.

CREATE TABLE challenges (
	id INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);

CREATE TABLE teams (
	id INTEGER NOT NULL, 
	challenge_id INTEGER NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	token_sha256 VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (challenge_id, name), 
	FOREIGN KEY(challenge_id) REFERENCES challenges (id), 
	UNIQUE (token_sha256)
);

CREATE TABLE submissions (
	id INTEGER NOT NULL, 
	team_id INTEGER NOT NULL, 
	task VARCHAR(100) NOT NULL, 
	phase VARCHAR(100) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	message TEXT NOT NULL, 
	file_sha256 VARCHAR(64) NOT NULL, 
	file_name VARCHAR(255) NOT NULL, 
	note TEXT NOT NULL, 
	selected BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	finished_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(team_id) REFERENCES teams (id)
);

CREATE INDEX ix_submissions_board ON submissions (task, phase, status);

CREATE INDEX ix_submissions_team ON submissions (team_id, task, phase, created_at);

CREATE TABLE scores (
	id INTEGER NOT NULL, 
	submission_id INTEGER NOT NULL, 
	subset VARCHAR(8) NOT NULL, 
	metric VARCHAR(100) NOT NULL, 
	value FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (submission_id, subset, metric), 
	FOREIGN KEY(submission_id) REFERENCES submissions (id)
);

CREATE INDEX ix_scores_metric ON scores (metric, subset, submission_id);

CREATE TABLE subset_results (
	id INTEGER NOT NULL, 
	submission_id INTEGER NOT NULL, 
	subset VARCHAR(8) NOT NULL, 
	n_ids INTEGER NOT NULL, 
	ids_sha256 VARCHAR(64) NOT NULL, 
	losses_npy BLOB NOT NULL, 
	details_json TEXT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (submission_id, subset), 
	FOREIGN KEY(submission_id) REFERENCES submissions (id)
);
