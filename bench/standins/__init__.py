"""Local stand-ins for the outside world (Bot API, WeCom, DingTalk, PostgreSQL, worker processes,
the Jiangsu form's files), shared by the tests and the benchmarks. They need only the product's
own install, so a benchmark runs without pytest."""
