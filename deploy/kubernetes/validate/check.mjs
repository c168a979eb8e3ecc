// Offline checks of deploy/kubernetes: renders each overlay with `kubectl kustomize`, validates every
// rendered object against the Kubernetes JSON schemas (kubernetes-models; ServiceMonitor through
// @kubernetes-models/prometheus-operator), then checks the rules the deployment relies on: probes,
// resources, securityContext, the image tag = the product version, graceful-shutdown timing, the
// Service, autoscaler, disruption budget and network policy. Prints one line per check and closes
// with `N passed, N failed`. Usage: node check.mjs [KUBECTL]   (run from anywhere)
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const here = dirname(fileURLToPath(import.meta.url));
const kustomizeRoot = join(here, "..");
const repoRoot = join(here, "..", "..", "..");
const kubectl = process.argv[2] ?? "kubectl";
const overlays = ["cpu", "gpu"];
const probePort = 5000;
const readinessService = "dermxai.v1.DermxaiService";

let passed = 0, failed = 0;
function check(name, fn) {
  try {
    const detail = fn();
    passed++;
    console.log(`PASS ${name}${detail ? ` (${detail})` : ""}`);
  } catch (error) {
    failed++;
    console.log(`FAIL ${name}: ${error.message.split("\n").slice(0, 6).join("; ")}`);
  }
}
function expect(condition, message) { if (!condition) throw new Error(message); }
const eq = (actual, expected, what) =>
  expect(JSON.stringify(actual) === JSON.stringify(expected), `${what} is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);

const version = readFileSync(join(repoRoot, "Directory.Build.props"), "utf8").match(/<Version>([^<]+)<\/Version>/)?.[1];
const serverMetrics = readFileSync(join(repoRoot, "src", "Server", "ServerMetrics.cs"), "utf8");

// apiVersion -> the module holding its model classes.
function modelModule(apiVersion) {
  if (apiVersion.startsWith("monitoring.coreos.com/")) return `@kubernetes-models/prometheus-operator/${apiVersion}`;
  return `kubernetes-models/${apiVersion}`;
}

async function validateSchema(object) {
  let models;
  try { models = await import(modelModule(object.apiVersion)); }
  catch { throw new Error(`no schema for ${object.apiVersion}`); }
  const Model = models[object.kind];
  expect(Model, `no schema for ${object.apiVersion} ${object.kind}`);
  new Model(object).validate();
}

const toBytes = (q) => {
  const m = String(q).match(/^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/);
  expect(m, `cannot read quantity ${q}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2]] ?? 1;
  return Number(m[1]) * unit;
};
const toCores = (q) => (String(q).endsWith("m") ? Number(String(q).slice(0, -1)) / 1000 : Number(q));

async function checkOverlay(overlay) {
  let objects = [];
  check(`${overlay}: kubectl kustomize renders`, () => {
    const text = execFileSync(kubectl, ["kustomize", join(kustomizeRoot, "overlays", overlay)], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    objects = parseAllDocuments(text).map((d) => d.toJS()).filter(Boolean);
    expect(objects.length > 0, "nothing rendered");
    return `${objects.length} objects`;
  });
  if (objects.length === 0) return;

  for (const object of objects) {
    const name = `${overlay}: schema ${object.apiVersion} ${object.kind}/${object.metadata?.name}`;
    try { await validateSchema(object); passed++; console.log(`PASS ${name}`); }
    catch (error) {
      failed++;
      const errors = error.errors?.map((e) => `${e.instancePath} ${e.message}`).join("; ") ?? error.message;
      console.log(`FAIL ${name}: ${errors}`);
    }
  }

  const find = (kind) => objects.filter((o) => o.kind === kind);
  const one = (kind) => { const found = find(kind); expect(found.length === 1, `expected one ${kind}, found ${found.length}`); return found[0]; };
  const deployment = find("Deployment")[0];
  const pod = deployment?.spec?.template?.spec ?? {};
  const server = pod.containers?.find((c) => c.name === "server") ?? {};
  const settings = find("ConfigMap").find((c) => c.metadata.name === "dermxai-settings")?.data ?? {};

  check(`${overlay}: every object in namespace dermxai`, () => {
    const stray = objects.filter((o) => o.kind !== "Namespace" && o.metadata.namespace !== "dermxai");
    expect(stray.length === 0, `outside: ${stray.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`);
  });
  check(`${overlay}: probes use the gRPC health check on the probe port`, () => {
    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
      expect(server[probe]?.grpc, `${probe} is not a grpc probe`);
      eq(server[probe].grpc.port, probePort, `${probe} port`);
    }
    eq(server.readinessProbe.grpc.service, readinessService, "readiness service");
    expect(server.ports?.some((p) => p.containerPort === probePort), `no container port ${probePort}`);
    const startupBudget = server.startupProbe.periodSeconds * server.startupProbe.failureThreshold;
    expect(startupBudget >= 60, `startup allows only ${startupBudget} s to load and warm the model`);
    return `startup up to ${startupBudget} s`;
  });
  check(`${overlay}: resources requested and limited`, () => {
    const { requests = {}, limits = {} } = server.resources ?? {};
    for (const r of ["cpu", "memory"]) expect(requests[r] && limits[r], `${r} request or limit missing`);
    expect(toBytes(limits.memory) >= toBytes(requests.memory), "memory limit below request");
    expect(toCores(limits.cpu) >= toCores(requests.cpu), "cpu limit below request");
    if (overlay === "gpu") {
      eq(String(limits["nvidia.com/gpu"]), "1", "nvidia.com/gpu limit");
      expect(pod.tolerations?.some((t) => t.key === "nvidia.com/gpu" && t.effect === "NoSchedule"), "no nvidia.com/gpu toleration");
      expect(Object.keys(pod.nodeSelector ?? {}).some((k) => k.startsWith("nvidia.com/")), "no GPU nodeSelector");
    } else {
      expect(!limits["nvidia.com/gpu"] && !requests["nvidia.com/gpu"], "a CPU pod asks for a GPU");
    }
    return `requests ${JSON.stringify(requests)}, limits ${JSON.stringify(limits)}`;
  });
  check(`${overlay}: securityContext non-root, no escalation, no capabilities, read-only root`, () => {
    const podSc = pod.securityContext ?? {}, sc = server.securityContext ?? {};
    eq(podSc.runAsNonRoot, true, "pod runAsNonRoot");
    expect(Number.isInteger(podSc.runAsUser) && podSc.runAsUser > 0, "pod runAsUser must be a non-zero uid");
    eq(sc.allowPrivilegeEscalation, false, "allowPrivilegeEscalation");
    eq(sc.readOnlyRootFilesystem, true, "readOnlyRootFilesystem");
    expect(sc.capabilities?.drop?.includes("ALL") && !(sc.capabilities?.add?.length), "capabilities must drop ALL and add none");
    expect(sc.privileged !== true, "privileged");
    eq(podSc.seccompProfile?.type, "RuntimeDefault", "seccompProfile");
    eq(pod.automountServiceAccountToken, false, "automountServiceAccountToken");
    const tmp = server.volumeMounts?.find((m) => m.mountPath === "/tmp");
    expect(tmp && pod.volumes?.find((v) => v.name === tmp.name)?.emptyDir, "/tmp must be a writable emptyDir");
  });
  check(`${overlay}: image tag is the product version`, () => {
    expect(version, "no <Version> in Directory.Build.props");
    const expected = overlay === "gpu" ? `${version}-cuda` : version;
    const tag = server.image?.split("@")[0].split("/").pop().split(":")[1];
    eq(tag, expected, `image tag of ${server.image}`);
    return server.image;
  });
  check(`${overlay}: graceful shutdown fits terminationGracePeriodSeconds`, () => {
    const pause = Number(server.lifecycle?.preStop?.exec?.command?.at(-1) ?? server.lifecycle?.preStop?.sleep?.seconds);
    const drain = Number(settings.DERMXAI__SHUTDOWNTIMEOUTSECONDS ?? 30);
    expect(pause > 0, "no preStop pause");
    expect(pod.terminationGracePeriodSeconds > pause + drain,
      `grace ${pod.terminationGracePeriodSeconds} s <= preStop ${pause} s + drain ${drain} s`);
    return `preStop ${pause} s + drain ${drain} s < ${pod.terminationGracePeriodSeconds} s`;
  });
  check(`${overlay}: settings: TLS, tokens, pinned model on the read-only models volume`, () => {
    expect(/^[0-9a-f]{64}$/.test(settings.DERMXAI__EXPECTEDMODELSHA256 ?? ""), "DERMXAI__EXPECTEDMODELSHA256 is not a sha256");
    expect(settings.DERMXAI__MODEL?.startsWith("/models/"), "DERMXAI__MODEL is not under /models");
    const models = server.volumeMounts?.find((m) => m.mountPath === "/models");
    eq(models?.readOnly, true, "/models readOnly");
    expect(pod.volumes.find((v) => v.name === models.name)?.persistentVolumeClaim, "/models is not a PersistentVolumeClaim");
    expect(settings.DERMXAI__URLS?.includes("https://"), "no TLS endpoint");
    expect(settings.DERMXAI__AUTH__TOKENFILE, "no token file");
    for (const secret of ["dermxai-tls", "dermxai-tokens"])
      expect(pod.volumes.some((v) => v.secret?.secretName === secret) && find("Secret").some((s) => s.metadata.name === secret), `secret ${secret} not mounted`);
    eq(settings.DERMXAI__DEVICE, overlay === "gpu" ? "cuda" : "cpu", "DERMXAI__DEVICE");
  });
  check(`${overlay}: headless Service for client-side balancing`, () => {
    const service = one("Service");
    eq(service.spec.clusterIP, "None", "clusterIP");
    eq(service.spec.selector, deployment.spec.selector.matchLabels, "Service selector");
    for (const port of ["grpc", "metrics"]) expect(service.spec.ports.some((p) => p.name === port), `no ${port} port`);
  });
  check(`${overlay}: HorizontalPodAutoscaler on a metric the server exports`, () => {
    const hpa = one("HorizontalPodAutoscaler");
    eq(hpa.spec.scaleTargetRef.name, deployment.metadata.name, "scale target");
    const names = hpa.spec.metrics.filter((m) => m.type === "Pods").map((m) => m.pods.metric.name);
    expect(names.length > 0, "no Pods metric");
    for (const name of names) expect(serverMetrics.includes(`"${name}"`), `${name} is not in src/Server/ServerMetrics.cs`);
    expect(hpa.spec.minReplicas >= 2, "minReplicas < 2");
    return names.join(", ");
  });
  check(`${overlay}: PodDisruptionBudget and ServiceMonitor select the pods`, () => {
    eq(one("PodDisruptionBudget").spec.selector.matchLabels, deployment.spec.selector.matchLabels, "PDB selector");
    const monitor = one("ServiceMonitor");
    const service = one("Service");
    const labels = service.metadata.labels ?? {};
    expect(Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => labels[k] === v), "ServiceMonitor does not select the Service");
    expect(monitor.spec.endpoints.every((e) => service.spec.ports.some((p) => p.name === e.port)), "ServiceMonitor port not on the Service");
  });
  check(`${overlay}: NetworkPolicy: gRPC from labelled clients, metrics from monitoring only`, () => {
    const policy = one("NetworkPolicy");
    eq(policy.spec.podSelector.matchLabels, deployment.spec.selector.matchLabels, "podSelector");
    const rule = (port) => policy.spec.ingress.filter((r) => r.ports?.some((p) => p.port === port));
    const grpc = rule("grpc"), metrics = rule("metrics");
    expect(grpc.length === 1 && grpc[0].from.every((f) => f.podSelector?.matchLabels?.["dermxai.io/client"] === "true"), "gRPC open beyond labelled clients");
    expect(metrics.length === 1 && metrics[0].from.every((f) => f.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === "monitoring" && !f.podSelector),
      "metrics open beyond the monitoring namespace");
    expect(policy.spec.ingress.every((r) => r.ports?.length), "a rule opens every port");
    expect(!rule(probePort).length && !rule("probe").length, "the plaintext probe port is open to pods");
  });
}

for (const overlay of overlays) await checkOverlay(overlay);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
