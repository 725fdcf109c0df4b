"""The baselines: a bare Flask app, served by the same gunicorn settings as the LMS.

``/table`` renders a 50-row template (the floor for a catalogue page) and ``/hello`` answers
GET and POST with a short text (the floor for any request, e.g. an enrolment POST).

    gunicorn bench.baseline:app"""

from __future__ import annotations

from flask import Flask, render_template

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
