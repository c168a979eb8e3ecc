// Dermxai viewer: the JSON routes of this server (GET /v1/model, POST /v1/explain), nothing fetched from
// elsewhere. One Explain per (photo, class) asks for every method at once, so switching the method or
// the class already seen costs no request.
"use strict";

const FAITHFULNESS_FRACTION = 0.1;
const TOP_K = 5;

const $ = (id) => document.getElementById(id);
const state = { model: null, photo: null, photoUrl: null, answers: new Map(), classIndex: null, pending: 0 };

function setStatus(text) { $("status").textContent = text; }
function percent(p) { return `${((p ?? 0) * 100).toFixed(1)}%`; }

async function api(path, body) {
  const headers = { "Accept": "application/json" };
  const token = $("token-input").value.trim();
  if (token) headers["Authorization"] = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method: body === undefined ? "GET" : "POST", headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) {
    const reason = (json.details || []).find((d) => d.reason)?.reason;
    if (response.status === 401) $("access").open = true;
    throw new Error(`${json.message || response.statusText}${reason ? ` (${reason})` : ""}`);
  }
  return json;
}

async function loadModelCard() {
  const card = await fetch("model-card").then((r) => r.json());
  $("model-warning-title").textContent = card.title;
  $("model-warning-text").textContent = card.warning;
}

async function loadModel() {
  state.model = (await api("v1/model")).model;
  const methods = $("method-select");
  methods.replaceChildren(...state.model.methods.map((m) => new Option(m.id, m.id, false, !!m.isDefault)));
  $("class-select").replaceChildren(...state.model.labels.map((label, i) => new Option(label, String(i))));
  setStatus("Ready: drop or choose a photo.");
}

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).slice(String(reader.result).indexOf(",") + 1));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function explain(classIndex) {
  const key = classIndex === null ? "predicted" : String(classIndex);
  if (state.answers.has(key)) return state.answers.get(key);
  const answer = await api("v1/explain", {
    image: { encoded: state.photo },
    methods: state.model.methods.map((m) => m.id),
    targets: [classIndex === null ? { predicted: {} } : { classIndex }],
    topK: TOP_K,
    faithfulnessFraction: FAITHFULNESS_FRACTION,
    outputs: { includeHeatmapPng: true },
  });
  state.answers.set(key, answer);
  return answer;
}

async function openPhoto(file) {
  if (!file) return;
  if (!state.model) { setStatus("The model's description is not loaded yet."); return; }
  if (!["image/jpeg", "image/png"].includes(file.type)) { setStatus(`${file.name} is not a JPEG or PNG photo.`); return; }
  const ticket = ++state.pending;
  setStatus(`Explaining ${file.name}…`);
  try {
    state.photo = await readBase64(file);
    state.answers.clear();
    if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
    state.photoUrl = URL.createObjectURL(file);
    $("photo").src = state.photoUrl;
    const answer = await explain(null);
    if (ticket !== state.pending) return;
    const predicted = answer.explanations[0].target.index ?? 0;
    state.answers.set(String(predicted), answer);
    state.classIndex = predicted;
    $("class-select").value = String(predicted);
    showDifferential(answer);
    show(answer);
    setStatus(`Explained ${file.name}.`);
  } catch (e) {
    if (ticket === state.pending) setStatus(`Could not explain ${file.name}: ${e.message}`);
  }
}

async function switchClass(classIndex) {
  const ticket = ++state.pending;
  state.classIndex = classIndex;
  setStatus(`Explaining class ${state.model.labels[classIndex]}…`);
  try {
    const answer = await explain(classIndex);
    if (ticket !== state.pending) return;
    show(answer);
    setStatus(`Showing class ${state.model.labels[classIndex]}.`);
  } catch (e) {
    if (ticket === state.pending) setStatus(`Could not explain that class: ${e.message}`);
  }
}

function showDifferential(answer) {
  const rows = answer.predictions.map((p, rank) => {
    const row = document.createElement("tr");
    row.dataset.index = String(p.index ?? 0);
    row.dataset.probability = String(p.probability ?? 0);
    for (const text of [String(rank + 1), p.label, percent(p.probability)]) row.insertCell().textContent = text;
    return row;
  });
  $("differential").tBodies[0].replaceChildren(...rows);
  $("differential-section").hidden = false;
}

function chosenExplanation(answer) {
  const method = $("method-select").value;
  return answer.explanations.find((e) => e.method === method) ?? answer.explanations[0];
}

function show(answer) {
  const explanation = chosenExplanation(answer);
  const target = explanation.target;
  $("heatmap").src = `data:image/png;base64,${explanation.heatmapPng}`;
  $("heatmap").alt = `Relevance of ${explanation.method} for class ${target.label}`;
  $("overlay-caption").textContent =
    `${explanation.method}, class ${target.label} (probability ${percent(target.probability)})` +
    (explanation.classSpecific ? "" : " — this method's map is the same for every class");
  showFaithfulness($("faithfulness"), explanation.faithfulness);
  showGrid(explanation);
  showMethods(answer);
  $("overlay-section").hidden = false;
}

function faithfulnessText(f) {
  if (!f) return "No faithfulness check was returned.";
  const share = `${Math.round((f.fraction ?? 0) * 100)}%`;
  return `Faithfulness check: probability ${percent(f.probability)}; without the ${share} most relevant patches ` +
    `${percent(f.probabilityWithoutMostRelevant)} (a faithful map makes it drop), without the ${share} least relevant ` +
    `${percent(f.probabilityWithoutLeastRelevant)} (it should stay).`;
}

function showFaithfulness(element, f) {
  element.textContent = faithfulnessText(f);
  const faithful = f && (f.probabilityWithoutMostRelevant ?? 0) < (f.probabilityWithoutLeastRelevant ?? 0);
  element.dataset.faithful = f ? String(faithful) : "unknown";
}

function showGrid(explanation) {
  const grid = explanation.grid;
  const table = $("grid");
  table.dataset.method = explanation.method;
  table.dataset.classIndex = String(explanation.target.index ?? 0);
  table.dataset.rows = String(grid.rows);
  table.dataset.cols = String(grid.cols);
  table.dataset.values = grid.values.join(" ");
  const rows = [];
  for (let r = 0; r < grid.rows; r++) {
    const row = document.createElement("tr");
    for (let c = 0; c < grid.cols; c++) row.insertCell().textContent = Number(grid.values[r * grid.cols + c]).toPrecision(3);
    rows.push(row);
  }
  table.tBodies[0].replaceChildren(...rows);
}

function showMethods(answer) {
  const target = answer.explanations[0].target;
  $("methods-caption").textContent = `Every method for class ${target.label}, at the chosen opacity.`;
  $("methods").replaceChildren(...answer.explanations.map((explanation) => {
    const item = document.createElement("li");
    item.dataset.method = explanation.method;
    const figure = document.createElement("figure");
    const stack = document.createElement("div");
    stack.className = "stack";
    const photo = new Image();
    photo.src = state.photoUrl;
    photo.alt = "";
    const heatmap = new Image();
    heatmap.src = `data:image/png;base64,${explanation.heatmapPng}`;
    heatmap.alt = `Relevance of ${explanation.method} for class ${target.label}`;
    heatmap.className = "heat";
    stack.append(photo, heatmap);
    const caption = document.createElement("figcaption");
    const name = document.createElement("strong");
    name.textContent = explanation.method;
    const check = document.createElement("p");
    check.className = "faithfulness";
    showFaithfulness(check, explanation.faithfulness);
    caption.append(name, check);
    figure.append(stack, caption);
    item.append(figure);
    return item;
  }));
  applyOpacity();
  $("methods-section").hidden = false;
}

function applyOpacity() {
  const value = Number($("opacity").value);
  $("opacity-value").textContent = `${value}%`;
  document.documentElement.style.setProperty("--overlay-opacity", String(value / 100));
}

function wire() {
  $("photo-input").addEventListener("change", (e) => openPhoto(e.target.files[0]));
  const zone = $("drop-zone");
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("dragging"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("dragging"); openPhoto(e.dataTransfer.files[0]); });
  $("method-select").addEventListener("change", () => {
    const answer = state.answers.get(String(state.classIndex));
    if (answer) show(answer);
  });
  $("class-select").addEventListener("change", (e) => { if (state.photo) switchClass(Number(e.target.value)); });
  $("opacity").addEventListener("input", applyOpacity);
  $("token-input").addEventListener("change", () => { if (!state.model) start(); });
  applyOpacity();
}

async function start() {
  try { await loadModel(); } catch (e) { setStatus(`Could not read the model's description: ${e.message}`); }
}

wire();
loadModelCard().catch(() => { $("model-warning-title").textContent = "Model card unavailable"; });
start();
