"""The lookup page: HTML and style served from memory; nothing external is loaded (it runs offline).

The script is :data:`spliceannot.lookup.page_script.SCRIPT`.  The page asks
``/api/genomes`` what is loaded, ``/api/lookup`` for the scores (raw
tracks included) and ``/api/plot`` for each transcript's landscape (SVG).
"""

from spliceannot.lookup.page_script import SCRIPT

HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/style.css">
<title>spliceannot lookup</title>
</head>
<body>
<header><h1>spliceannot lookup</h1><span id="loaded"></span></header>
<form id="lookup" autocomplete="off">
  <label>Variant <input id="variant" name="variant" size="40" required
    placeholder="16-189969-T-A, chr16:189969:T:A or NM_018032.5:c.100+1G>A"></label>
  <label>Genome <select id="genome" name="genome"></select></label>
  <label>Distance <input id="distance" name="distance" type="number" min="0" max="4999" value="50"></label>
  <label>Scores <select id="mask" name="mask">
    <option value="0">raw (unmasked)</option><option value="1">masked</option></select></label>
  <label>Transcripts <select id="transcripts" name="transcripts">
    <option value="all">all</option><option value="primary">MANE Select / canonical only</option></select></label>
  <button id="submit" type="submit">Look up</button>
</form>
<div id="message" role="status"></div>
<div id="summary"></div>
<div id="results"></div>
<script src="/static/app.js"></script>
</body>
</html>
"""

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.2em; color: #222; }
header { display: flex; align-items: baseline; gap: 1em; }
h1 { font-size: 1.3em; margin: 0 0 .5em 0; }
#loaded { color: #666; font-size: .9em; }
form { display: flex; flex-wrap: wrap; gap: .8em; align-items: end; margin-bottom: 1em; }
label { display: flex; flex-direction: column; font-size: .85em; gap: .2em; }
input, select, button { font-size: 1em; padding: .25em; }
#message { margin: .5em 0; min-height: 1.2em; }
#message.error { color: #a00; font-weight: 600; }
#message.note { color: #555; }
#results { display: grid; grid-template-columns: repeat(auto-fit, minmax(32em, 1fr)); gap: 1.5em; }
section.model h2 { font-size: 1.1em; border-bottom: 2px solid #ccc; }
div.transcript { border: 1px solid #ddd; border-radius: 4px; padding: .6em; margin-bottom: 1em; }
div.transcript h3 { font-size: 1em; margin: 0 0 .4em 0; }
span.badge { font-size: .75em; background: #2a6; color: #fff; border-radius: 3px; padding: 0 .35em;
             margin-left: .4em; }
span.badge.canonical { background: #568; }
table { border-collapse: collapse; font-size: .85em; margin: .3em 0; }
th, td { border: 1px solid #ccc; padding: .15em .45em; text-align: right; }
th { background: #f3f3f3; }
td.high { background: #fbd; }
img.landscape { max-width: 100%; display: block; margin: .4em 0; }
details { margin: .3em 0; }
div.positions { max-height: 24em; overflow: auto; }
"""

ASSETS: dict[str, tuple[str, str]] = {
    "index.html": (HTML, "text/html"),
    "app.js": (SCRIPT, "application/javascript"),
    "style.css": (STYLE, "text/css"),
}
