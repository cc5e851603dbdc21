--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: answers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.answers (
    id integer NOT NULL,
    profile_id integer NOT NULL,
    fact character varying(64) NOT NULL,
    value_json text,
    skipped boolean NOT NULL,
    source character varying(16) NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: answers_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.answers_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: answers_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.answers_id_seq OWNED BY public.answers.id;


--
-- Name: outbox; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.outbox (
    id integer NOT NULL,
    channel character varying(32) NOT NULL,
    chat_id character varying(64) NOT NULL,
    payload text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    next_attempt_at timestamp with time zone NOT NULL,
    attempts integer NOT NULL,
    sent_at timestamp with time zone,
    error character varying(500)
);


--
-- Name: outbox_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.outbox_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: outbox_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.outbox_id_seq OWNED BY public.outbox.id;


--
-- Name: processed_updates; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.processed_updates (
    channel character varying(32) NOT NULL,
    update_id character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: profiles; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.profiles (
    id integer NOT NULL,
    user_id integer NOT NULL,
    name character varying(200) NOT NULL,
    measures character varying(100) NOT NULL,
    lang character varying(8) NOT NULL,
    state character varying(32) NOT NULL,
    current_fact character varying(64),
    pending text,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    deleted boolean NOT NULL
);


--
-- Name: profiles_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.profiles_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: profiles_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.profiles_id_seq OWNED BY public.profiles.id;


--
-- Name: reminders; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.reminders (
    id integer NOT NULL,
    tracked_id integer NOT NULL,
    jurisdiction character varying(16) NOT NULL,
    kind character varying(32) NOT NULL,
    deadline date NOT NULL,
    lead_days integer NOT NULL,
    due_at timestamp without time zone NOT NULL,
    created_at timestamp without time zone NOT NULL,
    sent_at timestamp without time zone,
    outcome character varying(16),
    text text
);


--
-- Name: reminders_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.reminders_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: reminders_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.reminders_id_seq OWNED BY public.reminders.id;


--
-- Name: tracked_clusters; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tracked_clusters (
    id integer NOT NULL,
    user_id integer NOT NULL,
    number integer NOT NULL,
    name character varying(200) NOT NULL,
    measures character varying(100) NOT NULL,
    certified_on date NOT NULL,
    lead_days character varying(100) NOT NULL,
    remind_hour integer NOT NULL,
    remind_minute integer NOT NULL,
    paused_at timestamp without time zone,
    stopped_at timestamp without time zone,
    planned_until date,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);


--
-- Name: tracked_clusters_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.tracked_clusters_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: tracked_clusters_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.tracked_clusters_id_seq OWNED BY public.tracked_clusters.id;


--
-- Name: tracking_drafts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tracking_drafts (
    user_id integer NOT NULL,
    step character varying(16) NOT NULL,
    data text NOT NULL,
    updated_at timestamp without time zone NOT NULL
);


--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    id integer NOT NULL,
    channel character varying(32) NOT NULL,
    external_id character varying(64) NOT NULL,
    display_name character varying(200) NOT NULL,
    lang character varying(8) NOT NULL,
    active_profile_id integer,
    chat_id character varying(64),
    created_at timestamp with time zone NOT NULL
);


--
-- Name: users_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.users_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: users_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.users_id_seq OWNED BY public.users.id;


--
-- Name: answers id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.answers ALTER COLUMN id SET DEFAULT nextval('public.answers_id_seq'::regclass);


--
-- Name: outbox id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox ALTER COLUMN id SET DEFAULT nextval('public.outbox_id_seq'::regclass);


--
-- Name: profiles id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.profiles ALTER COLUMN id SET DEFAULT nextval('public.profiles_id_seq'::regclass);


--
-- Name: reminders id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.reminders ALTER COLUMN id SET DEFAULT nextval('public.reminders_id_seq'::regclass);


--
-- Name: tracked_clusters id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tracked_clusters ALTER COLUMN id SET DEFAULT nextval('public.tracked_clusters_id_seq'::regclass);


--
-- Name: users id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users ALTER COLUMN id SET DEFAULT nextval('public.users_id_seq'::regclass);


--
-- Data for Name: answers; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.answers VALUES (1, 1, 'county_level', 'true', false, 'dialog', '2026-12-02 02:04:16.226961+00');
INSERT INTO public.answers VALUES (2, 1, 'provincial_certified', 'true', false, 'dialog', '2026-12-02 02:04:16.240511+00');
INSERT INTO public.answers VALUES (3, 1, 'area_km2', NULL, true, 'dialog', '2026-12-02 02:04:16.250996+00');


--
-- Data for Name: outbox; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.outbox VALUES (1, 'telegram', '4242', '{"op": "send", "text": "已创建集群「示例县机械集群」。"}', '2026-12-02 02:04:16.190845+00', '2026-12-02 02:04:16.190865+00', 0, NULL, NULL);
INSERT INTO public.outbox VALUES (2, 'telegram', '4242', '{"op": "send", "text": "请选择按哪些办法预审「示例县机械集群」：可选一个、多个（如 1,2 或 江苏 广东）或全部。"}', '2026-12-02 02:04:16.19458+00', '2026-12-02 02:04:16.1946+00', 0, NULL, NULL);
INSERT INTO public.outbox VALUES (3, 'telegram', '4242', '{"op": "send", "text": "好的，按国家（工信部）、江苏、广东、陕西预审。只询问这些办法用得到的问题；每题均可 /skip 跳过、/back 返回、/why 查看依据。"}', '2026-12-02 02:04:16.206712+00', '2026-12-02 02:04:16.206755+00', 0, NULL, NULL);
INSERT INTO public.outbox VALUES (4, 'telegram', '4242', '{"op": "send", "text": "第 1/51 题 · 基本情况\n该集群是否定位在一个县级区划（县、县级市、区）范围内？"}', '2026-12-02 02:04:16.209266+00', '2026-12-02 02:04:16.209285+00', 0, NULL, NULL);
INSERT INTO public.outbox VALUES (5, 'telegram', '4242', '{"op": "send", "text": "没有看懂对“集群定位在县级区划范围内”的回答。请回复编号或选项：1. 是、2. 否。"}', '2026-12-02 02:04:16.217629+00', '2026-12-02 02:04:16.217649+00', 0, NULL, NULL);
INSERT INTO public.outbox VALUES (6, 'telegram', '4242', '{"op": "send", "text": "第 1/51 题 · 基本情况\n该集群是否定位在一个县级区划（县、县级市、区）范围内？"}', '2026-12-02 02:04:16.219049+00', '2026-12-02 02:04:16.21907+00', 0, NULL, NULL);
INSERT INTO public.outbox VALUES (7, 'telegram', '4242', '{"op": "send", "text": "已保存：集群定位在县级区划范围内 = 是"}', '2026-12-02 02:04:16.230282+00', '2026-12-02 02:04:16.230301+00', 0, NULL, NULL);
INSERT INTO public.outbox VALUES (8, 'telegram', '4242', '{"op": "send", "text": "第 2/51 题 · 基本情况\n该集群是否已被认定为省级中小企业特色产业集群？（申报国家级的前提）"}', '2026-12-02 02:04:16.232678+00', '2026-12-02 02:04:16.232697+00', 0, NULL, NULL);
INSERT INTO public.outbox VALUES (9, 'telegram', '4242', '{"op": "send", "text": "已保存：已认定为省级中小企业特色产业集群 = 是"}', '2026-12-02 02:04:16.242562+00', '2026-12-02 02:04:16.242581+00', 0, NULL, NULL);
INSERT INTO public.outbox VALUES (10, 'telegram', '4242', '{"op": "send", "text": "第 3/51 题 · 基本情况\n集群占地面积是多少平方公里？\n填写：不小于 0 的数（单位：平方公里）。例：80 或 80平方公里"}', '2026-12-02 02:04:16.244327+00', '2026-12-02 02:04:16.244345+00', 0, NULL, NULL);
INSERT INTO public.outbox VALUES (11, 'telegram', '4242', '{"op": "send", "text": "已跳过：集群占地面积（按“待定”处理，可稍后 /edit 补填）。"}', '2026-12-02 02:04:16.254148+00', '2026-12-02 02:04:16.254168+00', 0, NULL, NULL);
INSERT INTO public.outbox VALUES (12, 'telegram', '4242', '{"op": "send", "text": "第 4/51 题 · 基本情况\n集群主导产业是否为所在县域的支柱或特色产业？"}', '2026-12-02 02:04:16.255997+00', '2026-12-02 02:04:16.256016+00', 0, NULL, NULL);
INSERT INTO public.outbox VALUES (13, 'telegram', '4242', '{"op": "send", "text": "已开始跟踪 #1「示例县机械集群」。到期前按设置提醒；已过的期限稍后逐一提示。\n#1「示例县机械集群」 国家（工信部），2024年6月1日认定\n截止前 30、7、1 天、09:00（北京时间）提醒\n· 2025年4月30日（还有 333 天） 【国家（工信部）】2024年度集群发展情况报送截止（报送工业和信息化部）（第十六条）"}', '2026-12-02 02:04:16.279131+00', '2026-12-02 02:04:16.279156+00', 0, NULL, NULL);
INSERT INTO public.outbox VALUES (14, 'telegram', '4242', '{"op": "send", "text": "第 4/51 题 · 基本情况\n集群主导产业是否为所在县域的支柱或特色产业？"}', '2026-12-02 02:04:16.280238+00', '2026-12-02 02:04:16.280257+00', 0, NULL, NULL);


--
-- Data for Name: processed_updates; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.processed_updates VALUES ('telegram', '1000', '2026-12-02 02:04:16.177359+00');
INSERT INTO public.processed_updates VALUES ('telegram', '1001', '2026-12-02 02:04:16.197313+00');
INSERT INTO public.processed_updates VALUES ('telegram', '1002', '2026-12-02 02:04:16.211909+00');
INSERT INTO public.processed_updates VALUES ('telegram', '1003', '2026-12-02 02:04:16.221803+00');
INSERT INTO public.processed_updates VALUES ('telegram', '1004', '2026-12-02 02:04:16.235334+00');
INSERT INTO public.processed_updates VALUES ('telegram', '1005', '2026-12-02 02:04:16.246869+00');
INSERT INTO public.processed_updates VALUES ('telegram', '1006', '2026-12-02 02:04:16.258399+00');


--
-- Data for Name: profiles; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.profiles VALUES (1, 1, '示例县机械集群', 'national,jiangsu,guangdong,shaanxi', 'zh', 'asking', 'pillar_industry', NULL, '2026-12-02 02:04:16.187638+00', '2026-12-02 02:04:16.253586+00', false);


--
-- Data for Name: reminders; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.reminders VALUES (1, 1, 'national', 'annual_report', '2025-04-30', 30, '2025-03-31 01:00:00', '2024-06-01 02:00:00', NULL, NULL, NULL);
INSERT INTO public.reminders VALUES (2, 1, 'national', 'annual_report', '2025-04-30', 7, '2025-04-23 01:00:00', '2024-06-01 02:00:00', NULL, NULL, NULL);
INSERT INTO public.reminders VALUES (3, 1, 'national', 'annual_report', '2025-04-30', 1, '2025-04-29 01:00:00', '2024-06-01 02:00:00', NULL, NULL, NULL);


--
-- Data for Name: tracked_clusters; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.tracked_clusters VALUES (1, 1, 1, '示例县机械集群', 'national', '2024-06-01', '30,7,1', 9, 0, NULL, NULL, '2025-07-06', '2024-06-01 02:00:00', '2024-06-01 02:00:00');


--
-- Data for Name: tracking_drafts; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: users; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.users VALUES (1, 'telegram', '4242', '', 'zh', 1, '4242', '2026-12-02 02:04:16.181945+00');


--
-- Name: answers_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.answers_id_seq', 3, true);


--
-- Name: outbox_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.outbox_id_seq', 14, true);


--
-- Name: profiles_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.profiles_id_seq', 1, true);


--
-- Name: reminders_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.reminders_id_seq', 3, true);


--
-- Name: tracked_clusters_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.tracked_clusters_id_seq', 1, true);


--
-- Name: users_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.users_id_seq', 1, true);


--
-- Name: answers answers_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.answers
    ADD CONSTRAINT answers_pkey PRIMARY KEY (id);


--
-- Name: outbox outbox_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox
    ADD CONSTRAINT outbox_pkey PRIMARY KEY (id);


--
-- Name: processed_updates processed_updates_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.processed_updates
    ADD CONSTRAINT processed_updates_pkey PRIMARY KEY (channel, update_id);


--
-- Name: profiles profiles_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.profiles
    ADD CONSTRAINT profiles_pkey PRIMARY KEY (id);


--
-- Name: reminders reminders_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.reminders
    ADD CONSTRAINT reminders_pkey PRIMARY KEY (id);


--
-- Name: reminders reminders_tracked_id_jurisdiction_kind_deadline_lead_days_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.reminders
    ADD CONSTRAINT reminders_tracked_id_jurisdiction_kind_deadline_lead_days_key UNIQUE (tracked_id, jurisdiction, kind, deadline, lead_days);


--
-- Name: tracked_clusters tracked_clusters_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tracked_clusters
    ADD CONSTRAINT tracked_clusters_pkey PRIMARY KEY (id);


--
-- Name: tracked_clusters tracked_clusters_user_id_number_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tracked_clusters
    ADD CONSTRAINT tracked_clusters_user_id_number_key UNIQUE (user_id, number);


--
-- Name: tracking_drafts tracking_drafts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tracking_drafts
    ADD CONSTRAINT tracking_drafts_pkey PRIMARY KEY (user_id);


--
-- Name: users users_channel_external_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_channel_external_id_key UNIQUE (channel, external_id);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);


--
-- Name: ix_answers_profile_fact; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_answers_profile_fact ON public.answers USING btree (profile_id, fact, id);


--
-- Name: ix_outbox_unsent; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_outbox_unsent ON public.outbox USING btree (sent_at, next_attempt_at);


--
-- Name: ix_profiles_user_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_profiles_user_id ON public.profiles USING btree (user_id);


--
-- Name: ix_reminders_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_reminders_due ON public.reminders USING btree (sent_at, due_at);


--
-- Name: ix_reminders_tracked_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_reminders_tracked_id ON public.reminders USING btree (tracked_id);


--
-- Name: ix_tracked_clusters_user_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_tracked_clusters_user_id ON public.tracked_clusters USING btree (user_id);


--
-- Name: answers answers_profile_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.answers
    ADD CONSTRAINT answers_profile_id_fkey FOREIGN KEY (profile_id) REFERENCES public.profiles(id);


--
-- Name: profiles profiles_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.profiles
    ADD CONSTRAINT profiles_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);


--
-- Name: reminders reminders_tracked_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.reminders
    ADD CONSTRAINT reminders_tracked_id_fkey FOREIGN KEY (tracked_id) REFERENCES public.tracked_clusters(id);


--
-- Name: tracked_clusters tracked_clusters_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tracked_clusters
    ADD CONSTRAINT tracked_clusters_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);


--
-- Name: tracking_drafts tracking_drafts_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tracking_drafts
    ADD CONSTRAINT tracking_drafts_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);


--
-- PostgreSQL database dump complete
--


