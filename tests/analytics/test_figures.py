"""Every dashboard figure equals a count made independently, in plain Python, over the rows
the seed created (on SQLite and, when configured, PostgreSQL)."""

from __future__ import annotations

import statistics as stats
from collections import Counter, defaultdict
from datetime import timedelta

import pytest

from lms.analytics import services
from lms.analytics.services import Filters
from tests.analytics.conftest import NOW

SEATED = ("enrolled", "completed", "failed")


def _keep(e: dict, f: Filters) -> bool:
    return (f.cohort_id is None or e["cohort"] == f.cohort_id) and (
        not f.country or e["country"] == f.country
    )


def _filters(seed):
    return [
        Filters(),
        Filters(cohort_id=seed.cohorts[0].id),
        Filters(country="VN"),
        Filters(cohort_id=seed.cohorts[1].id, country="TH"),
    ]


def _course_enrolments(seed, f):
    return [e for e in seed.enrolments if e["course"] == seed.course.id and _keep(e, f)]


def test_enrolments_over_time(seed):
    for f in _filters(seed):
        mine = [e for e in _course_enrolments(seed, f) if e["enrolled_at"]]
        per_month = Counter(e["enrolled_at"].strftime("%Y-%m") for e in mine)
        table = services.enrolments_over_time(seed.course, f)
        got = {r["month"]: (r["new"], r["total"]) for r in table.rows}
        assert sum(r["new"] for r in table.rows) == len(mine)
        running = 0
        for month in [r["month"] for r in table.rows]:
            running += per_month.get(month, 0)
            assert got[month] == (per_month.get(month, 0), running)
        assert set(per_month) <= set(got)
    # the empty month (March) is shown with no new enrolments
    assert ("2027-03", 0) in [(r["month"], r["new"]) for r in table.rows] or not table.rows


def test_learners_and_completion_funnel(seed):
    required = {"m1": {"l1", "v1"}, "m2": {"l2"}}
    module_of = {"l1": "m1", "v1": "m1", "l2": "m2", "l3": "m2"}
    for f in _filters(seed):
        seated = [e for e in _course_enrolments(seed, f) if e["status"] in SEATED]
        ids = {e["id"] for e in seated}
        assert services.learner_count(seed.course, f) == len(seated)
        table = services.completion_funnel(seed.course, f, "en")
        assert [r["module"] for r in table.rows] == ["Engines", "Brakes"]
        for row, key in zip(table.rows, ("m1", "m2"), strict=True):
            rows = [
                p for p in seed.progress if p["enrolment"] in ids and module_of[p["lesson"]] == key
            ]
            started = {p["enrolment"] for p in rows}
            done = defaultdict(set)
            for p in rows:
                if p["completed"]:
                    done[p["enrolment"]].add(p["lesson"])
            completed = [e for e in started if required[key] <= done[e]]
            assert row["started"] == len(started)
            assert row["completed"] == len(completed)
            assert row["share"] == (round(len(completed) / len(seated), 4) if seated else None)


def _viewers(seed, f):
    ids = {e["id"] for e in _course_enrolments(seed, f)}
    return [
        p
        for p in seed.progress
        if p["lesson"] == "v1"
        and p["enrolment"] in ids
        and (p["seconds"] > 0 or p["position"] > 0 or p["completed"])
    ]


def test_video_engagement_and_dropoff(seed):
    for f in _filters(seed):
        views = _viewers(seed, f)
        table = services.video_engagement(seed.course, f, "en")
        (row,) = table.rows
        assert row["lesson"] == "Engine video" and row["length"] == 600
        assert row["viewers"] == len(views)
        assert row["completed"] == sum(p["completed"] for p in views)
        if views:
            assert row["avg_seconds"] == pytest.approx(
                stats.mean(p["seconds"] for p in views), abs=0.06
            )
        drop = services.video_dropoff(seed.course, seed.lessons["v1"], f)
        buckets = [
            10 if p["completed"] or p["position"] >= 600 else p["position"] * 10 // 600
            for p in views
        ]
        assert [r["point"] for r in drop.rows] == [b / 10 for b in range(11)]
        assert [r["viewers"] for r in drop.rows] == [
            sum(1 for b in buckets if b >= point) for point in range(11)
        ]
        assert drop.rows[0]["viewers"] == len(views)


def _first_graded(seed, f):
    first: dict[int, dict] = {}
    for a in seed.attempts:
        if a["status"] != "graded" or not _keep(a["enrolment"], f):
            continue
        if a["student"] not in first or a["number"] < first[a["student"]]["number"]:
            first[a["student"]] = a
    return first


def test_item_analysis(seed):
    for f in _filters(seed):
        first = {a["id"]: a for a in _first_graded(seed, f).values()}
        table = services.item_analysis(seed.assessment, f, "en")
        assert [r["question"] for r in table.rows] == (["Q1", "Q2", "Q3"] if first else [])
        for row, q in zip(table.rows, seed.questions, strict=True):
            rs = [r for r in seed.responses if r["attempt"] in first and r["question"] == q.id]
            xs = [r["score"] / r["max"] for r in rs]
            ys = [first[r["attempt"]]["score"] - r["score"] for r in rs]
            assert row["responses"] == len(rs)
            assert row["difficulty"] == pytest.approx(stats.mean(xs), abs=1e-4)
            if len(set(xs)) > 1 and len(set(ys)) > 1:
                assert row["discrimination"] == pytest.approx(stats.correlation(xs, ys), abs=1e-3)
            else:
                assert row["discrimination"] is None


def test_grade_distribution(seed):
    for f in _filters(seed):
        best: dict[int, float] = {}
        for a in seed.attempts:
            if a["status"] == "graded" and _keep(a["enrolment"], f):
                pct = a["score"] * 100 / 6
                best[a["student"]] = max(best.get(a["student"], -1), pct)
        bands = Counter(min(9, int(p // 10)) for p in best.values())
        table = services.grade_distribution(seed.assessment, f)
        assert [r["students"] for r in table.rows] == [bands.get(b, 0) for b in range(10)]
        assert sum(r["students"] for r in table.rows) == len(best)


def test_attendance_per_session(seed):
    for f in _filters(seed):
        pairs = {
            (ev["user"], ev["occ"])
            for ev in seed.events
            if _keep(ev["e"], f)
            and (ev["kind"] == "join" or (ev["kind"] == "present" and ev["minutes"]))
        }
        (row,) = services.attendance(seed.course, f, "en").rows
        assert row["session"] == "Workshop"
        assert row["occurrences"] == len({occ for _u, occ in pairs})
        assert row["attendances"] == len(pairs)
        assert row["students"] == len({u for u, _o in pairs})


# ---------------------------------------------------------------------------- statistics


def _admitted(seed, f, institution=None):
    return [
        e
        for e in seed.enrolments
        if e["enrolled_at"] and _keep(e, f) and (institution is None or institution == "gx")
    ]


@pytest.mark.parametrize("country", [None, "VN", "CN"])
def test_platform_statistics(seed, country):
    f = Filters(country=country)
    rows = _admitted(seed, f)
    result = services.statistics(None, f, "en", now=NOW)
    since = NOW - timedelta(days=30)

    seated = [e for e in rows if e["status"] in SEATED]
    assert result.figures == {
        "enrolments": len(rows),
        "learners": len({e["student"] for e in rows}),
        "active_learners": len(
            {e["student"] for e in rows if e["last_activity_at"] and e["last_activity_at"] >= since}
        ),
        "completion_rate": round(sum(e["status"] == "completed" for e in seated) / len(seated), 4)
        if seated
        else None,
        "transcripts_issued": 4,
    }
    tables = {t.key: t for t in result.tables}

    by_country = defaultdict(list)
    for e in rows:
        by_country[e["country"]].append(e)
    assert {
        r["country"]: (r["enrolments"], r["learners"], r["active"])
        for r in tables["countries"].rows
    } == {
        c: (
            len(es),
            len({e["student"] for e in es}),
            len({e["student"] for e in es if e["last_activity_at"] >= since}),
        )
        for c, es in by_country.items()
    }
    segments = Counter((e["country"], e["track"], e["industry"]) for e in rows)
    assert {
        (r["country"], r["track"], r["industry"]): r["enrolments"] for r in tables["segments"].rows
    } == segments

    tracks = defaultdict(list)
    for e in rows:
        tracks[e["track"]].append(e)
    got = {
        r["track"]: (r["learners"], r["completed"], r["failed"]) for r in tables["completion"].rows
    }
    assert got == {
        t: (
            sum(e["status"] in SEATED for e in es),
            sum(e["status"] == "completed" for e in es),
            sum(e["status"] == "failed" for e in es),
        )
        for t, es in tracks.items()
    }

    standing = [r for r in seed.records if not r["corrected"] and r["passed"] and r["credits"] > 0]
    expected = defaultdict(lambda: [0, 0.0])
    for r in standing:
        key = (r["kind"], r["origin"], r["destination"], r["system"])
        expected[key][0] += 1
        expected[key][1] += r["credits"]
    assert {
        (r["kind"], r["origin"], r["destination"], r["credit_system"]): [r["records"], r["credits"]]
        for r in tables["credits"].rows
    } == {k: [n, pytest.approx(c)] for k, (n, c) in expected.items()}
    assert any(r["kind"] == "recognised" for r in tables["credits"].rows)

    months = defaultdict(Counter)
    for t in seed.transcripts:
        months[t["month"]][t["status"]] += 1
    assert {
        r["month"]: (r["issued"], r["valid"], r["superseded"], r["revoked"])
        for r in tables["transcripts"].rows
    } == {
        m: (sum(c.values()), c["valid"], c["superseded"], c["revoked"]) for m, c in months.items()
    }

    (quota,) = tables["quotas"].rows
    seated_via = [e for e in seed.enrolments if e["agreement"] and e["holds_seat"]]
    assert quota["quota"] == 10 and quota["taken"] == seed.agreement.taken
    assert quota["students"] == len(seated_via)
    assert quota["use"] == round(seed.agreement.taken / 10, 4)


def test_institution_statistics_are_scoped(seed):
    gx = services.statistics(seed.gx, Filters(), "en", now=NOW)
    platform = services.statistics(None, Filters(), "en", now=NOW)
    assert gx.figures == platform.figures  # every course of the seed is Guangxi's
    vn = services.statistics(seed.vn, Filters(), "en", now=NOW)
    assert vn.figures["enrolments"] == 0 and vn.figures["transcripts_issued"] == 0
    tables = {t.key: t for t in vn.tables}
    assert tables["segments"].rows == [] and tables["transcripts"].rows == []
    recognised = [r for r in seed.records if r["kind"] == "recognised"]
    assert sum(r["records"] for r in tables["credits"].rows) == len(recognised)
    assert {r["kind"] for r in tables["credits"].rows} == {"recognised"}
    assert len(tables["quotas"].rows) == 1  # the Vietnamese partner sees its agreement


def test_the_seed_exercises_every_figure(seed):
    """Guard against a seed in which the comparisons above would pass on zeros."""
    f = Filters()
    assert len(services.enrolments_over_time(seed.course, f).rows) >= 4
    funnel = services.completion_funnel(seed.course, f, "en").rows
    assert all(r["started"] > r["completed"] > 0 for r in funnel)
    drop = [r["viewers"] for r in services.video_dropoff(seed.course, seed.lessons["v1"], f).rows]
    assert drop[0] > drop[5] > drop[10] > 0
    items = services.item_analysis(seed.assessment, f, "en").rows
    assert all(r["discrimination"] is not None for r in items)
    assert len({r["difficulty"] for r in items}) > 1
    grades = [r["students"] for r in services.grade_distribution(seed.assessment, f).rows]
    assert sum(1 for n in grades if n) >= 3
    (att,) = services.attendance(seed.course, f, "en").rows
    assert att["occurrences"] == 3 and att["attendances"] > att["students"] > 0
    stats_ = services.statistics(None, f, "en", now=NOW)
    assert 0 < stats_.figures["active_learners"] < stats_.figures["learners"]
    assert stats_.figures["completion_rate"]
