#!/usr/bin/env node
// An independent client for the Dermxai service: compiles proto/dermxai/v1/dermxai.proto at run time
// with @grpc/proto-loader, calls GetModelInfo, Classify and Explain over @grpc/grpc-js, and checks
// the answers against the contract (not against the C# client's code).
//
//   node check.js --image FILE [--server 127.0.0.1:5000] [--expect-top LABEL] [--token T]
//
// Prints one line per check and "N passed, N failed"; exits 1 if any check failed.
'use strict';

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const PROTO_ROOT = path.resolve(__dirname, '../../proto');
const PROTO_FILE = 'dermxai/v1/dermxai.proto';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const TOLERANCE = 1e-5;

function parseArgs(argv) {
  const options = { server: '127.0.0.1:5000', image: null, expectTop: null, token: null };
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (name === '--server') options.server = value.replace(/^https?:\/\//, '');
    else if (name === '--image') options.image = value;
    else if (name === '--expect-top') options.expectTop = value;
    else if (name === '--token') options.token = value;
    else throw new Error(`unknown option ${name}`);
  }
  if (!options.image) throw new Error('give --image FILE');
  return options;
}

function loadService() {
  const definition = protoLoader.loadSync(PROTO_FILE, {
    includeDirs: [PROTO_ROOT], keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true,
  });
  return grpc.loadPackageDefinition(definition).dermxai.v1.DermxaiService;
}

// The google.rpc.Status of a failed call (grpc-status-details-bin) with its ErrorInfo and BadRequest.
function richStatus(error) {
  const [bytes] = error.metadata ? error.metadata.get('grpc-status-details-bin') : [];
  if (!bytes) return null;
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => path.join(PROTO_ROOT, target);
  root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto']);
  const status = root.lookupType('google.rpc.Status').decode(bytes);
  const detail = name => {
    const any = status.details.find(d => (d.type_url || d.typeUrl) === `type.googleapis.com/google.rpc.${name}`);
    return any ? root.lookupType(`google.rpc.${name}`).decode(any.value) : null;
  };
  return { code: status.code, message: status.message, errorInfo: detail('ErrorInfo'), badRequest: detail('BadRequest') };
}

function unary(client, method, request, metadata) {
  return new Promise((resolve, reject) => {
    client[method](request, metadata, { deadline: Date.now() + 60_000 }, (error, response) =>
      error ? reject(error) : resolve(response));
  });
}

function pngSize(buffer) {
  if (!buffer.subarray(0, 8).equals(PNG_SIGNATURE)) return null;
  return { width: buffer.readUInt32BE(16), height: buffer.readUInt32BE(20) };
}

class Checks {
  constructor() { this.passed = 0; this.failed = 0; }
  that(name, condition, detail = '') {
    if (condition) this.passed++; else this.failed++;
    console.log(`${condition ? 'ok  ' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`);
  }
}

function checkDifferential(checks, rpc, predictions, info, requestedTopK) {
  const expected = Math.min(requestedTopK || 5, info.labels.length);
  checks.that(`${rpc}: ${expected} predictions`, predictions.length === expected, `got ${predictions.length}`);
  const probabilities = predictions.map(p => p.probability);
  const sum = probabilities.reduce((a, b) => a + b, 0);
  checks.that(`${rpc}: probabilities in [0,1], sum <= 1`, probabilities.every(p => p >= 0 && p <= 1) && sum <= 1 + TOLERANCE, `sum ${sum.toFixed(6)}`);
  checks.that(`${rpc}: most probable first`, probabilities.every((p, i) => i === 0 || probabilities[i - 1] >= p));
  checks.that(`${rpc}: labels match indices`, predictions.every(p => info.labels[p.index] === p.label));
  // softmax: p_i / p_j = exp(logit_i - logit_j)
  const [a, b] = predictions;
  if (b && b.probability > 1e-6) {
    const ratio = a.probability / b.probability, expectedRatio = Math.exp(a.logit - b.logit);
    checks.that(`${rpc}: probabilities are the softmax of the logits`, Math.abs(ratio - expectedRatio) <= 1e-3 * expectedRatio,
      `${ratio.toFixed(5)} vs ${expectedRatio.toFixed(5)}`);
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const Dermxai = loadService();
  const client = new Dermxai(options.server, grpc.credentials.createInsecure(),
    { 'grpc.max_receive_message_length': 256 * 1024 * 1024, 'grpc.max_send_message_length': 256 * 1024 * 1024 });
  const metadata = new grpc.Metadata();
  if (options.token) metadata.set('authorization', `Bearer ${options.token}`);
  metadata.set('x-request-id', 'node-check-1');
  const image = { encoded: fs.readFileSync(options.image) };
  const checks = new Checks();

  const { model: info } = await unary(client, 'GetModelInfo', {}, metadata);
  checks.that('GetModelInfo: labels', info.labels.length > 0, `${info.labels.length} classes`);
  checks.that('GetModelInfo: grid = image / patch', info.grid_size * info.patch_size === info.image_size,
    `${info.image_size}/${info.patch_size} = ${info.grid_size}`);
  checks.that('GetModelInfo: contract version 1', info.contract_version === 1);
  const defaultMethod = info.methods.find(m => m.is_default);
  checks.that('GetModelInfo: a default method', defaultMethod !== undefined, defaultMethod && defaultMethod.id);

  const classified = await unary(client, 'Classify', { image, top_k: 3 }, metadata);
  checkDifferential(checks, 'Classify', classified.predictions, info, 3);
  checks.that('Classify: request id echoed', classified.request_id === 'node-check-1', classified.request_id);
  checks.that('Classify: model sha256', classified.model_sha256 === info.model_sha256);

  const explained = await unary(client, 'Explain', {
    image, methods: [defaultMethod.id], targets: [{ predicted: {} }], outputs: { include_overlay_png: true }, top_k: 3,
  }, metadata);
  checkDifferential(checks, 'Explain', explained.predictions, info, 3);
  const [explanation] = explained.explanations;
  checks.that('Explain: one explanation', explained.explanations.length === 1);
  const cells = info.grid_size * info.grid_size;
  checks.that('Explain: grid is grid_size x grid_size', explanation.grid.rows === info.grid_size &&
    explanation.grid.cols === info.grid_size && explanation.grid.values.length === cells, `${explanation.grid.values.length} values`);
  checks.that('Explain: grid values finite', explanation.grid.values.every(Number.isFinite));
  checks.that('Explain: target is the predicted class', explanation.target.index === explained.predictions[0].index,
    explanation.target.label);
  checks.that('Explain: same top class as Classify', explained.predictions[0].index === classified.predictions[0].index);
  const overlay = pngSize(explanation.overlay_png);
  checks.that('Explain: overlay PNG at the photo size', overlay !== null &&
    overlay.width === explained.image_width && overlay.height === explained.image_height,
    overlay ? `${overlay.width}x${overlay.height}` : 'not a PNG');
  if (options.expectTop) {
    checks.that('top class equals the expected (the dermxai CLI\'s)', classified.predictions[0].label === options.expectTop,
      `${classified.predictions[0].label} vs ${options.expectTop}`);
  }

  try {
    await unary(client, 'Explain', { image, methods: ['no_such_method'] }, metadata);
    checks.that('Explain: unknown method refused', false, 'call succeeded');
  } catch (error) {
    checks.that('Explain: unknown method -> INVALID_ARGUMENT', error.code === grpc.status.INVALID_ARGUMENT, error.details);
    const status = richStatus(error);
    checks.that('Explain: unknown method -> reason UNKNOWN_METHOD', status !== null && status.errorInfo !== null &&
      status.errorInfo.reason === 'UNKNOWN_METHOD' && status.errorInfo.domain === 'dermxai.v1', status && status.errorInfo && status.errorInfo.reason);
    checks.that('Explain: unknown method -> field methods[0]', status !== null && status.badRequest !== null &&
      status.badRequest.fieldViolations[0].field === 'methods[0]');
  }

  client.close();
  console.log(`top class: ${classified.predictions[0].label} ${classified.predictions[0].probability.toFixed(4)}`);
  console.log(`${checks.passed} passed, ${checks.failed} failed`);
  process.exit(checks.failed === 0 ? 0 : 1);
}

main().catch(error => { console.error(`error: ${error.message}`); process.exit(2); });
