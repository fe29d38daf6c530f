// Study page: cine at the acquired frame rate, and editable LV ROIs (no build step).
"use strict";

const SCALE = 4; // images are served 4× enlarged

function startCine(img) {
  const frames = Number(img.dataset.frames);
  const frameMs = Math.max(Number(img.dataset.frameMs) || 40, 10);
  const base = img.src.replace(/\/\d+\.png$/, "");
  const cache = [];
  for (let i = 0; i < frames; i++) { const im = new Image(); im.src = `${base}/${i}.png`; cache.push(im); }
  let index = 0;
  let timer = setInterval(() => { index = (index + 1) % frames; img.src = cache[index].src; img.dataset.shown = index; }, frameMs);
  img.dataset.playing = "1";
  const button = document.querySelector(`button.play[data-target="${img.id}"]`);
  if (button) {
    button.addEventListener("click", () => {
      if (timer) { clearInterval(timer); timer = null; button.textContent = "Play"; img.dataset.playing = "0"; }
      else { timer = setInterval(() => { index = (index + 1) % frames; img.src = cache[index].src; img.dataset.shown = index; }, frameMs);
             button.textContent = "Pause"; img.dataset.playing = "1"; }
    });
  }
}

function svgEl(name, attrs) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

function polygonEditor(container, study, seriesUid, frame, label, points, colour) {
  const wrap = document.createElement("figure");
  wrap.className = "roi-editor";
  const img = new Image();
  img.src = `/studies/${study}/series/${seriesUid}/${frame}.png`;
  const svg = svgEl("svg", { class: "roi", "data-roi": label });
  const poly = svgEl("polygon", { fill: "none", stroke: colour, "stroke-width": 2 });
  svg.appendChild(poly);
  const redraw = () => poly.setAttribute("points", points.map(([r, c]) => `${(c + 0.5) * SCALE},${(r + 0.5) * SCALE}`).join(" "));
  points.forEach((p, i) => {
    const dot = svgEl("circle", { r: 5, fill: colour, class: "handle", "data-index": i });
    const place = () => { dot.setAttribute("cx", (p[1] + 0.5) * SCALE); dot.setAttribute("cy", (p[0] + 0.5) * SCALE); };
    place();
    dot.addEventListener("pointerdown", (ev) => {
      ev.preventDefault(); dot.setPointerCapture(ev.pointerId);
      const move = (e) => {
        const box = svg.getBoundingClientRect();
        p[1] = (e.clientX - box.left) / SCALE - 0.5; p[0] = (e.clientY - box.top) / SCALE - 0.5;
        points.edited = true;
        place(); redraw();
      };
      dot.addEventListener("pointermove", move);
      dot.addEventListener("pointerup", () => dot.removeEventListener("pointermove", move), { once: true });
    });
    svg.appendChild(dot);
  });
  redraw();
  img.onload = () => { svg.setAttribute("width", img.naturalWidth); svg.setAttribute("height", img.naturalHeight); };
  const stage = document.createElement("div");
  stage.className = "stage";
  stage.append(img, svg);
  const cap = document.createElement("figcaption");
  cap.textContent = `${label.toUpperCase()} (frame ${frame})`;
  wrap.append(stage, cap);
  container.appendChild(wrap);
}

async function loadRois() {
  const card = document.getElementById("rois-card");
  if (!card) return;
  const study = card.dataset.study;
  const status = document.getElementById("roi-status");
  const response = await fetch(`/api/studies/${study}/rois`);
  if (!response.ok) { status.textContent = "ROIs could not be loaded."; return; }
  const all = await response.json();
  const uids = Object.keys(all);
  if (!uids.length) { card.hidden = true; return; }
  const uid = uids[0];
  const rois = all[uid];
  const editors = document.getElementById("roi-editors");
  editors.innerHTML = "";
  polygonEditor(editors, study, uid, rois.ed_frame, "ed", rois.lv_ed, "#29c46b");
  polygonEditor(editors, study, uid, rois.es_frame, "es", rois.lv_es, "#ff5a4f");
  if (rois.background && rois.background.length >= 3) {
    polygonEditor(editors, study, uid, rois.ed_frame, "background", rois.background, "#f2b33d");
  }
  status.textContent = `LVEF ${rois.lvef_percent.toFixed(1)}% (${rois.source} ROIs)`;
  document.getElementById("recompute").onclick = async () => {
    status.textContent = "Recomputing…";
    const reply = await fetch(`/api/studies/${study}/rois`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": card.dataset.csrf },
      // The automatic background (often several small pieces) is sent only when the user
      // moved one of its points; otherwise the analysis keeps its own.
      body: JSON.stringify({ series_instance_uid: uid, lv_ed: rois.lv_ed, lv_es: rois.lv_es,
                             background: rois.background && rois.background.edited ? rois.background : null }),
    });
    let body = {};
    try { body = await reply.json(); } catch (e) { body = {}; }
    if (!reply.ok || !body.rois) { status.textContent = body.error || "Recomputation failed."; return; }
    status.textContent = `LVEF ${body.rois.lvef_percent.toFixed(1)}% with your ROIs — two-ROI method (analysis version ${body.version})`;
    status.dataset.lvef = body.rois.lvef_percent.toFixed(1);
  };
}

function stressParts() {
  const select = document.querySelector("select[name=stress_type]");
  if (!select) return;
  const show = () => document.querySelectorAll(".stress-part").forEach((part) => {
    const kind = part.dataset.kind;
    part.hidden = select.value === "none" || (kind !== "any" && kind !== select.value);
  });
  select.addEventListener("change", show);
  show();
}

document.querySelectorAll("img.cine").forEach(startCine);
stressParts();
loadRois();
