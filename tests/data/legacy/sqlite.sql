PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE users (
	id INTEGER NOT NULL, 
	channel VARCHAR(32) NOT NULL, 
	external_id VARCHAR(64) NOT NULL, 
	display_name VARCHAR(200) NOT NULL, 
	lang VARCHAR(8) NOT NULL, 
	active_profile_id INTEGER, 
	chat_id VARCHAR(64), 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (channel, external_id)
);
INSERT INTO users VALUES(1,'telegram','4242','','zh',1,'4242','2026-12-02 02:04:15.640576');
CREATE TABLE processed_updates (
	channel VARCHAR(32) NOT NULL, 
	update_id VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (channel, update_id)
);
INSERT INTO processed_updates VALUES('telegram','1000','2026-12-02 02:04:15.636232');
INSERT INTO processed_updates VALUES('telegram','1001','2026-12-02 02:04:15.869710');
INSERT INTO processed_updates VALUES('telegram','1002','2026-12-02 02:04:15.897152');
INSERT INTO processed_updates VALUES('telegram','1003','2026-12-02 02:04:15.903805');
INSERT INTO processed_updates VALUES('telegram','1004','2026-12-02 02:04:15.912488');
INSERT INTO processed_updates VALUES('telegram','1005','2026-12-02 02:04:15.919984');
INSERT INTO processed_updates VALUES('telegram','1006','2026-12-02 02:04:15.926506');
CREATE TABLE outbox (
	id INTEGER NOT NULL, 
	channel VARCHAR(32) NOT NULL, 
	chat_id VARCHAR(64) NOT NULL, 
	payload TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	next_attempt_at DATETIME NOT NULL, 
	attempts INTEGER NOT NULL, 
	sent_at DATETIME, 
	error VARCHAR(500), 
	PRIMARY KEY (id)
);
INSERT INTO outbox VALUES(1,'telegram','4242','{"op": "send", "text": "已创建集群「示例县机械集群」。"}','2026-12-02 02:04:15.862636','2026-12-02 02:04:15.862661',0,NULL,NULL);
INSERT INTO outbox VALUES(2,'telegram','4242','{"op": "send", "text": "请选择按哪些办法预审「示例县机械集群」：可选一个、多个（如 1,2 或 江苏 广东）或全部。"}','2026-12-02 02:04:15.866879','2026-12-02 02:04:15.866901',0,NULL,NULL);
INSERT INTO outbox VALUES(3,'telegram','4242','{"op": "send", "text": "好的，按国家（工信部）、江苏、广东、陕西预审。只询问这些办法用得到的问题；每题均可 /skip 跳过、/back 返回、/why 查看依据。"}','2026-12-02 02:04:15.893029','2026-12-02 02:04:15.893049',0,NULL,NULL);
INSERT INTO outbox VALUES(4,'telegram','4242','{"op": "send", "text": "第 1/51 题 · 基本情况\n该集群是否定位在一个县级区划（县、县级市、区）范围内？"}','2026-12-02 02:04:15.894833','2026-12-02 02:04:15.894852',0,NULL,NULL);
INSERT INTO outbox VALUES(5,'telegram','4242','{"op": "send", "text": "没有看懂对“集群定位在县级区划范围内”的回答。请回复编号或选项：1. 是、2. 否。"}','2026-12-02 02:04:15.900840','2026-12-02 02:04:15.900859',0,NULL,NULL);
INSERT INTO outbox VALUES(6,'telegram','4242','{"op": "send", "text": "第 1/51 题 · 基本情况\n该集群是否定位在一个县级区划（县、县级市、区）范围内？"}','2026-12-02 02:04:15.901490','2026-12-02 02:04:15.901506',0,NULL,NULL);
INSERT INTO outbox VALUES(7,'telegram','4242','{"op": "send", "text": "已保存：集群定位在县级区划范围内 = 是"}','2026-12-02 02:04:15.908910','2026-12-02 02:04:15.908929',0,NULL,NULL);
INSERT INTO outbox VALUES(8,'telegram','4242','{"op": "send", "text": "第 2/51 题 · 基本情况\n该集群是否已被认定为省级中小企业特色产业集群？（申报国家级的前提）"}','2026-12-02 02:04:15.910574','2026-12-02 02:04:15.910593',0,NULL,NULL);
INSERT INTO outbox VALUES(9,'telegram','4242','{"op": "send", "text": "已保存：已认定为省级中小企业特色产业集群 = 是"}','2026-12-02 02:04:15.916876','2026-12-02 02:04:15.916895',0,NULL,NULL);
INSERT INTO outbox VALUES(10,'telegram','4242','{"op": "send", "text": "第 3/51 题 · 基本情况\n集群占地面积是多少平方公里？\n填写：不小于 0 的数（单位：平方公里）。例：80 或 80平方公里"}','2026-12-02 02:04:15.917793','2026-12-02 02:04:15.917810',0,NULL,NULL);
INSERT INTO outbox VALUES(11,'telegram','4242','{"op": "send", "text": "已跳过：集群占地面积（按“待定”处理，可稍后 /edit 补填）。"}','2026-12-02 02:04:15.924028','2026-12-02 02:04:15.924046',0,NULL,NULL);
INSERT INTO outbox VALUES(12,'telegram','4242','{"op": "send", "text": "第 4/51 题 · 基本情况\n集群主导产业是否为所在县域的支柱或特色产业？"}','2026-12-02 02:04:15.924927','2026-12-02 02:04:15.924947',0,NULL,NULL);
INSERT INTO outbox VALUES(13,'telegram','4242','{"op": "send", "text": "已开始跟踪 #1「示例县机械集群」。到期前按设置提醒；已过的期限稍后逐一提示。\n#1「示例县机械集群」 国家（工信部），2024年6月1日认定\n截止前 30、7、1 天、09:00（北京时间）提醒\n· 2025年4月30日（还有 333 天） 【国家（工信部）】2024年度集群发展情况报送截止（报送工业和信息化部）（第十六条）"}','2026-12-02 02:04:15.943267','2026-12-02 02:04:15.943288',0,NULL,NULL);
INSERT INTO outbox VALUES(14,'telegram','4242','{"op": "send", "text": "第 4/51 题 · 基本情况\n集群主导产业是否为所在县域的支柱或特色产业？"}','2026-12-02 02:04:15.943986','2026-12-02 02:04:15.944004',0,NULL,NULL);
CREATE TABLE profiles (
	id INTEGER NOT NULL, 
	user_id INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	measures VARCHAR(100) NOT NULL, 
	lang VARCHAR(8) NOT NULL, 
	state VARCHAR(32) NOT NULL, 
	current_fact VARCHAR(64), 
	pending TEXT, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(user_id) REFERENCES users (id)
);
INSERT INTO profiles VALUES(1,1,'示例县机械集群','national,jiangsu,guangdong,shaanxi','zh','asking','pillar_industry',NULL,'2026-12-02 02:04:15.645530','2026-12-02 02:04:15.923475',0);
CREATE TABLE tracked_clusters (
	id INTEGER NOT NULL, 
	user_id INTEGER NOT NULL, 
	number INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	measures VARCHAR(100) NOT NULL, 
	certified_on DATE NOT NULL, 
	lead_days VARCHAR(100) NOT NULL, 
	remind_hour INTEGER NOT NULL, 
	remind_minute INTEGER NOT NULL, 
	paused_at DATETIME, 
	stopped_at DATETIME, 
	planned_until DATE, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (user_id, number), 
	FOREIGN KEY(user_id) REFERENCES users (id)
);
INSERT INTO tracked_clusters VALUES(1,1,1,'示例县机械集群','national','2024-06-01','30,7,1',9,0,NULL,NULL,'2025-07-06','2024-06-01 02:00:00.000000','2024-06-01 02:00:00.000000');
CREATE TABLE tracking_drafts (
	user_id INTEGER NOT NULL, 
	step VARCHAR(16) NOT NULL, 
	data TEXT NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (user_id), 
	FOREIGN KEY(user_id) REFERENCES users (id)
);
CREATE TABLE answers (
	id INTEGER NOT NULL, 
	profile_id INTEGER NOT NULL, 
	fact VARCHAR(64) NOT NULL, 
	value_json TEXT, 
	skipped BOOLEAN NOT NULL, 
	source VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(profile_id) REFERENCES profiles (id)
);
INSERT INTO answers VALUES(1,1,'county_level','true',0,'dialog','2026-12-02 02:04:15.906181');
INSERT INTO answers VALUES(2,1,'provincial_certified','true',0,'dialog','2026-12-02 02:04:15.915508');
INSERT INTO answers VALUES(3,1,'area_km2',NULL,1,'dialog','2026-12-02 02:04:15.922102');
CREATE TABLE reminders (
	id INTEGER NOT NULL, 
	tracked_id INTEGER NOT NULL, 
	jurisdiction VARCHAR(16) NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	deadline DATE NOT NULL, 
	lead_days INTEGER NOT NULL, 
	due_at DATETIME NOT NULL, 
	created_at DATETIME NOT NULL, 
	sent_at DATETIME, 
	outcome VARCHAR(16), 
	text TEXT, 
	PRIMARY KEY (id), 
	UNIQUE (tracked_id, jurisdiction, kind, deadline, lead_days), 
	FOREIGN KEY(tracked_id) REFERENCES tracked_clusters (id)
);
INSERT INTO reminders VALUES(1,1,'national','annual_report','2025-04-30',30,'2025-03-31 01:00:00.000000','2024-06-01 02:00:00.000000',NULL,NULL,NULL);
INSERT INTO reminders VALUES(2,1,'national','annual_report','2025-04-30',7,'2025-04-23 01:00:00.000000','2024-06-01 02:00:00.000000',NULL,NULL,NULL);
INSERT INTO reminders VALUES(3,1,'national','annual_report','2025-04-30',1,'2025-04-29 01:00:00.000000','2024-06-01 02:00:00.000000',NULL,NULL,NULL);
CREATE INDEX ix_outbox_unsent ON outbox (sent_at, next_attempt_at);
CREATE INDEX ix_profiles_user_id ON profiles (user_id);
CREATE INDEX ix_tracked_clusters_user_id ON tracked_clusters (user_id);
CREATE INDEX ix_answers_profile_fact ON answers (profile_id, fact, id);
CREATE INDEX ix_reminders_due ON reminders (sent_at, due_at);
CREATE INDEX ix_reminders_tracked_id ON reminders (tracked_id);
COMMIT;
