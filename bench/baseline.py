"""The baselines: a bare Flask app, served by the same gunicorn settings as the LMS.

``/table`` renders a 50-row template (the floor for a catalogue page), ``/hello`` answers
GET and POST with a short text (the floor for any request, e.g. an enrolment POST), and
``/pdf`` renders a transcript's layout with bare fpdf2 (the floor for transcript issuance;
``BENCH_PDF`` names a JSON file with the document and fonts, see bench/barepdf.py).

    gunicorn bench.baseline:app"""

from __future__ import annotations

import json
import os

from flask import Flask, Response, abort, render_template

app = Flask(__name__)

ROWS = [
    {
        "code": f"BN{n:06d}",
        "title": f"Applied welding {n}",
        "institution": f"Vocational College {n % 50}",
        "credits": "2.0",
        "hours": 32,
    }
    for n in range(50)
]


@app.get("/table")
def table():
    return render_template("bare50.html", rows=ROWS)


@app.route("/hello", methods=["GET", "POST"])
def hello():
    return "hello"


@app.get("/pdf")
def pdf():
    if not os.environ.get("BENCH_PDF"):
        abort(404)
    import barepdf

    with open(os.environ["BENCH_PDF"], encoding="utf-8") as fh:
        spec = json.load(fh)
    return Response(barepdf.render(spec["document"], spec["fonts"]), mimetype="application/pdf")
