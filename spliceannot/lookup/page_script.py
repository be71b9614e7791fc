"""The lookup page's script (plain JavaScript, no library): the form, the tables, the plots, the CSV."""

SCRIPT = r"""
"use strict";
const $ = (id) => document.getElementById(id);
const FIELDS = ["AG", "AL", "DG", "DL"];
const NAMES = {AG: "acceptor gain", AL: "acceptor loss", DG: "donor gain", DL: "donor loss"};
const REASONS = {
  "no overlapping gene": "The variant is outside every gene of the loaded annotation: no transcript to score it against.",
  "REF does not match the FASTA": "REF does not match the genome at this position: check the REF allele and the genome.",
  "contig not in FASTA": "The chromosome is not in this genome.",
  "too close to the contig end": "The variant is too close to the chromosome's end to be scored.",
  "REF longer than 2*D": "REF is longer than twice the distance: raise the distance to score it.",
};

function element(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (key === "text") node.textContent = value; else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function say(text, kind) {
  const message = $("message");
  message.textContent = text;
  message.className = kind || "";
}

async function loadGenomes() {
  const response = await fetch("/api/genomes");
  const info = await response.json();
  const select = $("genome");
  for (const genome of info.genomes) {
    select.append(element("option", {value: genome.name, text: genome.name}));
  }
  $("distance").value = info.distance;
  $("mask").value = String(info.mask);
  $("loaded").textContent = info.genomes.map((g) => `${g.name}: ${g.models.join(" + ")}`).join("; ")
    + ` (spliceannot ${info.version})`;
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("variant")) {
    for (const key of ["variant", "genome", "distance", "mask", "transcripts"]) {
      if (hash.get(key) !== null) $(key).value = hash.get(key);
    }
    lookup();
  }
}

function params() {
  return new URLSearchParams({
    variant: $("variant").value.trim(), genome: $("genome").value, distance: $("distance").value,
    mask: $("mask").value, transcripts: $("transcripts").value,
  });
}

async function lookup(event) {
  if (event) event.preventDefault();
  const query = params();
  $("results").replaceChildren();
  $("summary").replaceChildren();
  say("Scoring...", "note");
  query.set("raw", "1");
  let reply;
  try {
    const response = await fetch("/api/lookup?" + query.toString());
    reply = await response.json();
    if (!response.ok) { say(reply.error || `error ${response.status}`, "error"); return; }
  } catch (error) {
    say("The server did not answer: " + error, "error");
    return;
  }
  query.delete("raw");
  history.replaceState(null, "", "#" + query.toString());
  render(reply, query);
}

function render(reply, query) {
  const where = `${reply.chrom}:${reply.pos} ${reply.ref}>${reply.alt}`;
  const via = reply.hgvs_transcript ? ` (${reply.variant} on ${reply.hgvs_transcript})` : "";
  $("summary").append(element("p", {id: "resolved", text: `${where}${via}, genome ${reply.genome}, ` +
    `distance ${reply.distance}, ${reply.mask ? "masked" : "raw"} scores`}));
  const reasons = [];
  if ("scores" in reply) {
    if (reply.reason) reasons.push(["SpliceAI", reply.reason]);
    else $("results").append(spliceaiSection(reply, query));
  }
  if ("pangolin" in reply) {
    if (reply.pangolin_reason) reasons.push(["Pangolin", reply.pangolin_reason]);
    else $("results").append(pangolinSection(reply));
  }
  if (reasons.length) {
    say(reasons.map(([model, reason]) => `${model}: ${REASONS[reason] || reason}`).join(" "), "error");
  } else {
    say("", "");
  }
}

function badges(transcript) {
  const marks = [];
  if (transcript.mane_select) marks.push(element("span", {class: "badge mane", text: "MANE Select"}));
  if (transcript.canonical) marks.push(element("span", {class: "badge canonical", text: "canonical"}));
  return marks;
}

function spliceaiSection(reply, query) {
  const section = element("section", {class: "model", id: "spliceai"}, element("h2", {text: "SpliceAI"}));
  if (!reply.transcripts.length) {
    section.append(element("p", {text: "No MANE Select or canonical transcript overlaps the variant."}));
  }
  for (const transcript of reply.transcripts) {
    const name = transcript.transcript_id || transcript.gene;
    const box = element("div", {class: "transcript", "data-transcript": name, "data-row": transcript.row});
    box.append(element("h3", {}, `${transcript.gene} ${transcript.transcript_id || ""} (${transcript.strand})`,
                       ...badges(transcript)));
    const head = element("tr", {}, element("th", {text: ""}),
                         ...FIELDS.map((f) => element("th", {text: NAMES[f]})));
    const scores = element("tr", {}, element("th", {text: "Δ score"}), ...FIELDS.map((f) => {
      const value = transcript["DS_" + f];
      const cell = element("td", {"data-field": "DS_" + f, text: value === null ? "." : value});
      if (value !== null && parseFloat(value) >= 0.2) cell.className = "high";
      return cell;
    }));
    const positions = element("tr", {}, element("th", {text: "position"}), ...FIELDS.map((f) => {
      const value = transcript["DP_" + f];
      return element("td", {"data-field": "DP_" + f, text: value === null ? "." : String(value)});
    }));
    box.append(element("table", {class: "scores"}, head, scores, positions));
    if (transcript.raw) {
      const plot = new URLSearchParams(query);
      plot.set("row", transcript.row);
      box.append(element("img", {class: "landscape", alt: `splice landscape of ${name}`,
                                 src: "/api/plot?" + plot.toString()}));
      box.append(positionTable(reply, transcript, name));
    }
    section.append(box);
  }
  return section;
}

function positionRows(reply, transcript) {
  const raw = transcript.raw;
  return raw.positions.map((position, i) => ({
    position, offset: position - reply.pos,
    ref_acceptor: raw.ref_acceptor[i], alt_acceptor: raw.alt_acceptor[i],
    ref_donor: raw.ref_donor[i], alt_donor: raw.alt_donor[i],
  }));
}

const COLUMNS = ["position", "offset", "ref_acceptor", "alt_acceptor", "ref_donor", "alt_donor"];

function positionTable(reply, transcript, name) {
  const rows = positionRows(reply, transcript);
  const table = element("table", {class: "positions"},
    element("tr", {}, ...COLUMNS.map((c) => element("th", {text: c.replace("_", " ")}))));
  for (const row of rows) {
    const shown = Math.max(row.ref_acceptor, row.alt_acceptor, row.ref_donor, row.alt_donor) >= 0.01
      || row.offset === 0;
    if (!shown) continue;
    table.append(element("tr", {}, ...COLUMNS.map((c) => element("td", {text: String(row[c])}))));
  }
  const button = element("button", {type: "button", class: "csv", text: "Download CSV"});
  button.addEventListener("click", () => downloadCsv(reply, transcript, name, rows));
  return element("details", {}, element("summary", {text: "Scores at every position"}), button,
                 element("div", {class: "positions"}, table));
}

function downloadCsv(reply, transcript, name, rows) {
  const lines = [["chrom", ...COLUMNS].join(",")];
  for (const row of rows) lines.push([reply.chrom, ...COLUMNS.map((c) => row[c])].join(","));
  const blob = new Blob([lines.join("\n") + "\n"], {type: "text/csv"});
  const link = element("a", {href: URL.createObjectURL(blob),
    download: `spliceai_${reply.chrom}-${reply.pos}-${reply.ref}-${reply.alt}_${name}.csv`});
  document.body.append(link);
  link.click();
  link.remove();
}

function pangolinSection(reply) {
  const section = element("section", {class: "model", id: "pangolin"}, element("h2", {text: "Pangolin"}));
  if (!reply.pangolin_genes.length) {
    section.append(element("p", {class: "value", text: reply.pangolin}));
  }
  for (const gene of reply.pangolin_genes) {
    const box = element("div", {class: "transcript", "data-gene": gene.gene}, element("h3", {text: gene.gene}));
    box.append(element("table", {class: "scores"},
      element("tr", {}, element("th", {text: ""}), element("th", {text: "splice gain"}),
              element("th", {text: "splice loss"})),
      element("tr", {}, element("th", {text: "Δ score"}), element("td", {"data-field": "gain", text: gene.gain}),
              element("td", {"data-field": "loss", text: gene.loss})),
      element("tr", {}, element("th", {text: "position"}),
              element("td", {"data-field": "gain_position", text: String(gene.gain_position)}),
              element("td", {"data-field": "loss_position", text: String(gene.loss_position)}))));
    section.append(box);
  }
  return section;
}

$("lookup").addEventListener("submit", lookup);
loadGenomes().catch((error) => say("Cannot reach the server: " + error, "error"));
"""
