// The dashboard: asks /api/state every few seconds and redraws. Every value from the
// batch goes into the page as text (textContent), never as markup. It asks for one page
// of books and says which version it holds: the books come back only when one changed.
"use strict";

let refreshSeconds = 2;
let page = 1;
let heldVersion = null; // the version of the books on the page; null: send them all
let timer = null;

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  return node;
}

function clock(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return (h ? h + ":" + String(m).padStart(2, "0") : String(m)) + ":" + String(r).padStart(2, "0");
}

function when(epoch) {
  return epoch ? new Date(epoch * 1000).toLocaleString() : "";
}

function bookUrl(id, tail) {
  return "/books/" + encodeURIComponent(id) + "/" + tail;
}

function drawRun(data) {
  const run = data.run;
  let text;
  if (run.running) {
    const counts = Object.entries(run.counts).map(([state, n]) => n + " " + state).join(", ");
    text = "Running since " + when(run.started_at) + " (" + clock(run.elapsed_s) + ") on " + run.host + ": " + counts;
  } else if (data.summary) {
    text = "Finished: " + String(data.summary.status).toUpperCase() + " — " + data.summary.successful_files + " of " +
      data.summary.total_files + " books made";
  } else {
    text = "No run yet in " + data.results_dir;
  }
  const node = document.getElementById("run");
  node.textContent = text;
  node.dataset.running = run.running ? "yes" : "no";
  document.getElementById("updated").textContent = "Updated " + new Date().toLocaleTimeString() +
    " from " + data.results_dir + "; refreshes every " + refreshSeconds + " s";
}

function shownTitle(book) {
  if (!book.title) return book.id;
  return book.title + (book.author ? " \u2014 " + book.author : "");
}

function bookCell(book) {
  // "Title — Author" with a small cover, the id beneath it (the id is what file names and pipeline.json use).
  const cell = el("td", null, { class: "book", title: book.file_name || "" });
  if (book.cover) cell.append(el("img", null, { class: "cover", src: bookUrl(book.id, "cover"), alt: "", loading: "lazy" }));
  cell.append(el("span", shownTitle(book), { class: "title" }));
  if (book.title) cell.append(el("div", book.id, { class: "id muted" }));
  return cell;
}

function drawRows(body, books) {
  body.replaceChildren();
  for (const book of books) {
    const row = el("tr", null, { "data-book": book.id, "data-state": book.state });
    row.append(bookCell(book));
    const state = book.state + (book.earlier ? " (earlier run)" : "");
    row.append(el("td", state, { class: "state state-" + book.state.replace(" ", "-") }));
    row.append(el("td", book.phase ? book.phase + " " + book.phase_name : ""));
    const progress = el("td");
    if (book.chunks_total) {
      progress.append(el("progress", null, { max: book.chunks_total, value: book.chunks_done || 0 }));
      progress.append(" " + (book.chunks_done || 0) + "/" + book.chunks_total + " chunks");
    }
    row.append(progress);
    row.append(el("td", book.state === "running" ? clock(book.elapsed_s) : clock(book.duration_s)));
    row.append(el("td", book.remaining_s !== null ? "about " + clock(book.remaining_s) + " left" : ""));
    const details = el("td");
    if (book.error) details.append(el("div", book.error, { class: "reason" }));
    if (book.has_log) details.append(el("a", "log", { href: bookUrl(book.id, "log"), class: "log" }));
    row.append(details);
    body.append(row);
  }
}

function drawPager(info) {
  const pager = document.getElementById("pager");
  pager.hidden = info.pages <= 1;
  document.getElementById("page-info").textContent =
    "Page " + info.number + " of " + info.pages + " (" + info.total + " books, " + info.size + " a page)";
  document.getElementById("prev").disabled = info.number <= 1;
  document.getElementById("next").disabled = info.number >= info.pages;
  page = info.number;
}

function turnPage(step) {
  page += step;
  heldVersion = null;
  refreshNow();
}

const SUMMARY_ROWS = [
  ["Total books", "total_files"], ["Successful", "successful_files"], ["Partial", "partial_files"],
  ["Failed", "failed_files"], ["Not run", "pending_files"], ["Already done", "skipped_files"],
  ["Duration", "duration"], ["Audio", "audio_seconds"], ["Avg CPU", "avg_cpu"], ["Status", "status"],
];

function drawSummary(data) {
  const table = document.getElementById("summary");
  const body = table.querySelector("tbody");
  body.replaceChildren();
  const summary = data.summary;
  const note = document.getElementById("summary-note");
  if (!summary) {
    note.textContent = "The summary appears when the run ends.";
    table.dataset.status = "";
    return;
  }
  note.textContent = data.summary_is_current ? "This run, finished " + when(summary.finished_at) + "."
    : "The previous run's summary (finished " + when(summary.finished_at) + "); this run's comes when it ends.";
  table.dataset.status = data.summary_is_current ? summary.status : "";
  for (const [label, key] of SUMMARY_ROWS) {
    let value = summary[key];
    if (value === undefined || value === null) continue;
    if (key === "duration" || key === "audio_seconds") value = clock(value);
    if (key === "avg_cpu") value = value + " %";
    if (key === "status") value = String(value).toUpperCase();
    const row = el("tr", null, { "data-key": key });
    row.append(el("th", label), el("td", value));
    body.append(row);
  }
}

function drawFinished(books) {
  const box = document.getElementById("finished");
  const made = books.filter((book) => book.audio);
  // An audio element being played must not be replaced: redraw only when the set of books changes.
  const key = made.map((book) => book.id + "/" + book.audio).join("|");
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.replaceChildren();
  if (!made.length) box.append(el("p", "No audiobook made yet.", { class: "muted" }));
  for (const book of made) {
    const card = el("div", null, { class: "book-card", "data-book": book.id });
    card.append(el("h3", shownTitle(book)));
    card.append(el("audio", null, { controls: "", preload: "none", src: bookUrl(book.id, "audio/" + encodeURIComponent(book.audio)) }));
    const facts = [];
    if (book.audio_seconds) facts.push("length " + clock(book.audio_seconds));
    if (book.loudness_lufs !== null) facts.push("loudness " + book.loudness_lufs.toFixed(1) + " LUFS");
    if (book.true_peak_dbtp !== null) facts.push("true peak " + book.true_peak_dbtp.toFixed(1) + " dBTP");
    if (book.real_time_factor !== null) facts.push("real-time factor " + book.real_time_factor.toFixed(3));
    card.append(el("p", facts.join(" · "), { class: "muted" }));
    if (book.chapters.length) {
      const list = el("ol", null, { class: "chapters" });
      for (const chapter of book.chapters) list.append(el("li", clock(chapter.start_s) + "  " + chapter.title));
      card.append(list);
    }
    box.append(card);
  }
}

function drawPlots(plots, finishedAt) {
  const box = document.getElementById("plots");
  const key = plots.map((plot) => plot.url).join("|") + "@" + finishedAt;
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.replaceChildren();
  if (!plots.length) box.append(el("p", "The plots appear when a run ends.", { class: "muted" }));
  for (const plot of plots) {
    box.append(el("img", null, { src: "/" + plot.url + "?v=" + encodeURIComponent(finishedAt || ""), alt: plot.title, title: plot.title }));
  }
}

function drawHistory(runs) {
  const body = document.querySelector("#history tbody");
  body.replaceChildren();
  for (const run of runs) {
    const row = el("tr", null, { "data-run": run.id, "data-outcome": run.outcome });
    for (const value of [run.id, when(run.started_at), when(run.finished_at), run.outcome, run.total, run.successful,
      run.partial, run.failed, run.skipped, clock(run.duration), run.host]) {
      row.append(el("td", value));
    }
    body.append(row);
  }
}

async function refresh() {
  try {
    const query = "?page=" + page + (heldVersion === null ? "" : "&since=" + heldVersion);
    const response = await fetch("/api/state" + query, { cache: "no-store" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    const data = await response.json();
    refreshSeconds = data.refresh_s || refreshSeconds;
    drawRun(data);
    drawPager(data.page);
    document.getElementById("running-section").hidden = !data.running.length;
    drawRows(document.querySelector("#running tbody"), data.running);
    if (data.books !== null) {
      drawRows(document.querySelector("#books tbody"), data.books);
      drawFinished(data.books);
      heldVersion = data.version;
    }
    drawSummary(data);
    drawPlots(data.plots, data.summary ? data.summary.finished_at : null);
    drawHistory(data.history);
    document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
  } catch (error) {
    document.getElementById("updated").textContent = "Cannot reach the dashboard server (" + error.message + "); retrying.";
  }
  timer = setTimeout(refresh, refreshSeconds * 1000);
}

function refreshNow() {
  clearTimeout(timer);
  refresh();
}

document.getElementById("prev").addEventListener("click", () => turnPage(-1));
document.getElementById("next").addEventListener("click", () => turnPage(1));
refresh();
