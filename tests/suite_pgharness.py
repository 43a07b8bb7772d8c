"""suite_pgharness.py - a self-check of tests/pgserver.py, the throwaway PostgreSQL 15 server the
PostgreSQL tests share: it starts and answers psql in a fresh database of its own (NULL read back
as None, told from the empty string), and it can be stopped and started again mid-run on the same
port with its data kept. Run alone with `tests/run.py -k pg_server`."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgserver  # noqa: E402

_DB = {}


def _table_db(pg):
    """The database holding table t (created once, read again after the restart)."""
    if "t" not in _DB:
        db = pg.new_db("pgharness")
        pg.psql("create table t (id int primary key, name text);"
                "insert into t values (1, 'one'), (2, null), (3, '')", db=db)
        _DB["t"] = db
    return _DB["t"]


def test_pg_server_starts_and_answers(ctx):
    assert pgserver.available(), "PostgreSQL 15 is not installed (make deps)"
    pg = pgserver.server()
    assert pg.running
    db = _table_db(pg)
    assert db.startswith("pgharness_")
    assert pg.dsn(db) == "host=127.0.0.1 port=%d user=postgres dbname=%s" % (pg.port, db)
    rows = pg.psql("select id, name from t order by id", db=db)
    assert rows == [["1", "one"], ["2", None], ["3", ""]], rows
    # Values with separators, quotes and newlines come back whole; no rows is [].
    rows = pg.psql("select E'a,b\\t\"c\"\\nd', 'é'", db=db)
    assert rows == [['a,b\t"c"\nd', "é"]], rows
    assert pg.psql("select 1 where false", db=db) == []
    # Each new_db is a different, empty database.
    other = pg.new_db("pgharness")
    assert other != db
    assert pg.psql("select count(*) from pg_tables where tablename = 't'", db=other) == [["0"]]
    try:
        pg.psql("select * from no_such_table", db=db)
    except AssertionError as e:
        assert "no_such_table" in str(e), e
    else:
        raise AssertionError("psql on a missing table did not fail")


def test_pg_server_stop_start(ctx):
    pg = pgserver.server()
    db = _table_db(pg)
    port, pid = pg.port, pg.pid
    pg.stop()
    assert not pg.running and pg.pid is None
    try:
        pg.psql("select 1", db=db)
    except AssertionError:
        pass
    else:
        raise AssertionError("psql answered while the server was stopped")
    pg.start()
    assert pg.running and pg.port == port and pg.pid != pid
    assert pg.psql("select 1") == [["1"]]
    rows = pg.psql("select id, name from t order by id", db=db)
    assert rows == [["1", "one"], ["2", None], ["3", ""]], rows
