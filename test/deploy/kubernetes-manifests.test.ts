// @test-process: shared (runs kubectl kustomize (no cluster))
// Issue 22: the Kubernetes manifests (deploy/kubernetes/). Each overlay is rendered by
// `kubectl kustomize` (no cluster needed) with placeholder secret files, every rendered object is
// validated against the Kubernetes OpenAPI schemas shipped in kubernetes-models (and
// prometheus-operator's for the ServiceMonitor), and the Deployment's environment, seen as the
// kubelet would mount it, is loaded by the gateway's own loadConfig: the grace periods, ports and
// limits asserted below are the ones the gateway would run with.
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, posix } from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { parse, parseAllDocuments } from 'yaml'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy'
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Namespace } from 'kubernetes-models/v1/Namespace'
import type { INamespace } from 'kubernetes-models/v1/Namespace'
import { Secret } from 'kubernetes-models/v1/Secret'
import type { ISecret } from 'kubernetes-models/v1/Secret'
import { Service } from 'kubernetes-models/v1/Service'
import type { IService } from 'kubernetes-models/v1/Service'
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount'
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor'
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor'
import { loadConfig } from '../../src/config/load-config.js'
import type { LoadedConfig } from '../../src/config/load-config.js'
import { SECRET_VARIABLES } from '../../src/config/settings.js'

const ROOT = 'deploy/kubernetes'
const OVERLAYS = ['minimal', 'production'] as const
type OverlayName = (typeof OVERLAYS)[number]

/** Stand-ins for the operator's secret files: shaped like the real ones, so production's checks pass. */
const PLACEHOLDER_SECRETS: Readonly<Record<string, string>> = {
  'algolia-api-key': 'test-only-agent-api-key-not-real',
  'algolia-search-key': 'test-only-search-key-not-real',
  'algolia-key-id': 'test-only-key-id',
  'algolia-secret-key': 'sk-alg-test-only-secret-not-real',
  'session-jwt-secret': 'test-only-session-secret-at-least-32-bytes-long',
  'redis-url': 'rediss://default:test-only-password@redis.example.internal:6380'
}
/** Never an environment value in a manifest: the secrets, and the key id that is rotated with its secret. */
const SECRET_NAMES: readonly string[] = [...SECRET_VARIABLES, 'ALGOLIA_KEY_ID']

interface KubeObject {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
}
interface Overlay {
  name: OverlayName
  dir: string
  objects: KubeObject[]
}

// --- rendering ---------------------------------------------------------------------------------

const KUSTOMIZE_NEEDED =
  "kubectl 1.27 or later (kustomize v5) on PATH: from pkgs.k8s.io or your cloud SDK (Debian bookworm's kubernetes-client is 1.20, whose kustomize v2 cannot render these overlays)"

/** kubectl's embedded kustomize version, or why it cannot be used. */
function kustomizeProblem(): string | undefined {
  let answer: string
  try {
    answer = execFileSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch {
    return `kubectl is missing: these tests need ${KUSTOMIZE_NEEDED}`
  }
  const version = (JSON.parse(answer) as { kustomizeVersion?: string }).kustomizeVersion ?? ''
  const major = Number(/^v(\d+)\./.exec(version)?.[1] ?? 0)
  return major >= 5 ? undefined : `kubectl embeds kustomize ${version || 'of an unknown version'}: these tests need ${KUSTOMIZE_NEEDED}`
}

/**
 * Renders each overlay from a copy of deploy/kubernetes in which secrets/ holds placeholder
 * files, as the operator's real ones would be (they are never committed).
 */
function renderAll(work: string): Map<OverlayName, Overlay> {
  cpSync(ROOT, join(work, 'kubernetes'), { recursive: true })
  const overlays = new Map<OverlayName, Overlay>()
  for (const name of OVERLAYS) {
    const dir = join(work, 'kubernetes', 'overlays', name)
    const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as { secretGenerator?: Array<{ files?: string[] }> }
    for (const entry of (kustomization.secretGenerator ?? []).flatMap((generator) => generator.files ?? [])) {
      const [key, path = key] = entry.split('=') as [string, string?]
      const value = PLACEHOLDER_SECRETS[key]
      if (value === undefined) throw new Error(`${name}: secret file ${key} has no placeholder in this test: add one to PLACEHOLDER_SECRETS`)
      writeFileSync(join(dir, path), `${value}\n`) // as `echo value > file` writes it
    }
    const output = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    const objects = parseAllDocuments(output).map((document) => document.toJS() as KubeObject)
    overlays.set(name, { name, dir, objects })
  }
  return overlays
}

const work = mkdtempSync(join(tmpdir(), 'kubernetes-manifests-'))
t.teardown(() => rmSync(work, { recursive: true, force: true }))
let renderProblem = kustomizeProblem()
let rendered = new Map<OverlayName, Overlay>()
if (renderProblem === undefined) {
  try {
    rendered = renderAll(work)
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr
    renderProblem = `kubectl kustomize failed: ${stderr ?? (error as Error).message}`
  }
}

/** The rendered overlay, or a failure that says what is missing (kubectl, a placeholder). */
function overlay(t: Test, name: OverlayName): Overlay | undefined {
  const found = rendered.get(name)
  if (found === undefined) t.fail(renderProblem ?? `${name} was not rendered`)
  return found
}

// --- validation against the OpenAPI schemas ------------------------------------------------------

interface ModelClass {
  apiVersion: string
  kind: string
  prototype: { validate(this: unknown): void }
}
const MODELS: readonly ModelClass[] = [
  Namespace,
  ServiceAccount,
  ConfigMap,
  Secret,
  Service,
  Deployment,
  HorizontalPodAutoscaler,
  PodDisruptionBudget,
  NetworkPolicy,
  ServiceMonitor
]

/**
 * The object's problems against its kind's OpenAPI schema. The schemas admit fields they do not
 * declare (the API server drops them silently, so a misspelt `readOnlyRootFileSystem` would be a
 * writable root filesystem that passes every check), so unknown fields are found too: the
 * validator reads every field its schema declares, and a field it never read is not declared.
 */
function schemaProblems(object: KubeObject): string[] {
  const model = MODELS.find((candidate) => candidate.apiVersion === object.apiVersion && candidate.kind === object.kind)
  if (model === undefined) return [`${object.apiVersion} ${object.kind}: no schema in this test; add its kubernetes-models class to MODELS`]
  const unread: Array<() => string[]> = []
  const watched = watchReads(withoutLineBreaksInSecrets(object), '', unread)
  try {
    model.prototype.validate.call(watched)
  } catch (error) {
    return [(error as Error).message]
  }
  return unread.flatMap((list) => list()).map((path) => `${path}: not a field of ${object.kind}`)
}

/**
 * kustomize wraps a Secret's base64 values at 70 columns; the API server's decoder (Go's
 * encoding/base64) ignores the line breaks, the schema's `byte` pattern does not.
 */
function withoutLineBreaksInSecrets(object: KubeObject): KubeObject {
  if (object.kind !== 'Secret') return object
  const secret = object as KubeObject & { data?: Record<string, string> }
  return { ...secret, data: Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, value.replace(/\n/g, '')])) } as KubeObject
}

function watchReads(value: unknown, path: string, unread: Array<() => string[]>): unknown {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((item, index) => watchReads(item, `${path}/${index}`, unread))
  const read = new Set<string>()
  const copy = Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, watchReads(inner, `${path}/${key}`, unread)]))
  unread.push(() =>
    Object.keys(copy)
      .filter((key) => !read.has(key))
      .map((key) => `${path}/${key}`)
  )
  return new Proxy(copy, {
    get(target, key, receiver) {
      if (typeof key === 'string') read.add(key)
      return Reflect.get(target, key, receiver) as unknown
    }
  })
}

// --- helpers -----------------------------------------------------------------------------------

function only<T>(objects: readonly KubeObject[], kind: string): T[] {
  return objects.filter((object) => object.kind === kind) as unknown as T[]
}

function gatewayDeployment(objects: readonly KubeObject[]) {
  const [deployment] = only<IDeployment>(objects, 'Deployment')
  const pod = deployment!.spec!.template.spec!
  const container = pod.containers.find((candidate) => candidate.name === 'gateway')!
  return { deployment: deployment!, pod, container }
}

function envValue(container: ReturnType<typeof gatewayDeployment>['container'], name: string): string | undefined {
  return container.env?.find((variable) => variable.name === name)?.value
}

/** Every key/value of `selector` is among `labels`. */
function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  return selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels?.[key] === value)
}

/** Quantity to bytes (Mi, Gi, M, G, plain). */
function bytes(quantity: string | number): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(String(quantity))
  if (match === null) throw new Error(`not a memory quantity: ${quantity}`)
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 }[match[2] ?? ''] ?? 1
  return Number(match[1]) * unit
}

/**
 * The container's environment as the kubelet gives it: the env ConfigMap, then the explicit
 * variables, with every mounted ConfigMap and Secret written out as the files the pod would see
 * (paths under a mount point rewritten to where they were written here).
 */
function podEnvironment(overlay: Overlay): Record<string, string> {
  const { pod, container } = gatewayDeployment(overlay.objects)
  const configMaps = only<IConfigMap>(overlay.objects, 'ConfigMap')
  const secrets = only<ISecret>(overlay.objects, 'Secret')
  const mounts: Array<[string, string]> = []
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.volumes?.find((candidate) => candidate.name === mount.name)
    const dir = join(overlay.dir, '.pod', mount.name)
    mkdirSync(dir, { recursive: true })
    if (volume?.configMap !== undefined) {
      const map = configMaps.find((candidate) => candidate.metadata?.name === volume.configMap!.name)
      for (const [key, value] of Object.entries(map?.data ?? {})) writeFileSync(join(dir, key), value)
    } else if (volume?.secret !== undefined) {
      const secret = secrets.find((candidate) => candidate.metadata?.name === volume.secret!.secretName)
      for (const [key, value] of Object.entries(secret?.data ?? {})) writeFileSync(join(dir, key), Buffer.from(value, 'base64'))
    }
    mounts.push([mount.mountPath, dir])
  }
  const env: Record<string, string> = {}
  for (const source of container.envFrom ?? []) {
    const map = configMaps.find((candidate) => candidate.metadata?.name === source.configMapRef?.name)
    Object.assign(env, map?.data)
  }
  for (const variable of container.env ?? []) {
    if (variable.value === undefined) continue
    const mount = mounts.find(([path]) => variable.value!.startsWith(`${path}/`))
    env[variable.name] = mount === undefined ? variable.value : join(mount[1], variable.value.slice(mount[0].length + 1))
  }
  return env
}

function gatewayConfig(t: Test, overlay: Overlay): LoadedConfig | undefined {
  try {
    return loadConfig(podEnvironment(overlay), { defaultConfigFile: undefined })
  } catch (error) {
    t.fail(`${overlay.name}: the gateway refuses the rendered configuration: ${(error as Error).message}`)
    return undefined
  }
}

// --- the tests -----------------------------------------------------------------------------------

t.test('every overlay renders, and every object it renders validates against its Kubernetes schema', async (t) => {
  for (const name of OVERLAYS) {
    const found = overlay(t, name)
    if (found === undefined) continue
    t.ok(found.objects.length > 0, `${name} renders objects`)
    for (const object of found.objects) {
      t.same(schemaProblems(object), [], `${name}: ${object.kind} ${object.metadata.name} is valid`)
    }
  }
})

t.test('the schema check finds a misspelt field and a wrong type', async (t) => {
  const found = overlay(t, 'minimal')
  if (found === undefined) return
  const deployment = structuredClone(found.objects.find((object) => object.kind === 'Deployment')!) as unknown as IDeployment
  const container = deployment.spec!.template.spec!.containers[0]!
  ;(container.securityContext as Record<string, unknown>).readOnlyRootFileSystem = true
  t.same(
    schemaProblems(deployment as unknown as KubeObject),
    ['/spec/template/spec/containers/0/securityContext/readOnlyRootFileSystem: not a field of Deployment'],
    'a field the schema does not declare is named'
  )
  ;(container.ports![0] as unknown as Record<string, unknown>).containerPort = 'http'
  t.match(schemaProblems(deployment as unknown as KubeObject), [/containerPort must be integer/], 'a wrong type is named')
})

t.test('the gateway accepts the rendered configuration under NODE_ENV=production', async (t) => {
  for (const name of OVERLAYS) {
    const found = overlay(t, name)
    if (found === undefined) continue
    const loaded = gatewayConfig(t, found)
    if (loaded === undefined) continue
    const { config } = loaded
    t.equal(config.production, true, `${name}: production`)
    t.equal(config.server.host, '0.0.0.0', `${name}: the public listener is reachable from the Service`)
    t.equal(config.server.adminHost, '0.0.0.0', `${name}: so is the admin listener, for probes and scrapers`)
    t.ok(
      config.redis.connection !== undefined && config.redis.connection.tls !== undefined,
      `${name}: external Redis over TLS, from REDIS_URL_FILE (rediss://)`
    )
    t.same(config.policy.allowedAgentIds, ['replace-with-your-agent-id'], `${name}: the policy comes from the overlay's ConfigMap`)
    t.same(loaded.warnings, [], `${name}: and it starts without a warning`)
  }
})

t.test('probes use the admin listener: /healthz for start-up and liveness, /readyz for readiness', async (t) => {
  for (const name of OVERLAYS) {
    const found = overlay(t, name)
    if (found === undefined) continue
    const { container } = gatewayDeployment(found.objects)
    const config = gatewayConfig(t, found)?.config
    const ports = new Map(container.ports?.map((port) => [port.name, port.containerPort]))
    t.equal(ports.get('admin'), config?.server.adminPort, `${name}: the port named admin is ADMIN_PORT`)
    t.not(config?.server.adminPort, 0, `${name}: an admin listener is configured`)
    t.equal(ports.get('http'), config?.server.port, `${name}: the port named http is PORT`)
    const probes = { startupProbe: '/healthz', livenessProbe: '/healthz', readinessProbe: '/readyz' } as const
    for (const [probe, path] of Object.entries(probes) as Array<[keyof typeof probes, string]>) {
      const get = container[probe]?.httpGet
      t.equal(get?.path, path, `${name}: ${probe} asks ${path}`)
      const port = typeof get?.port === 'string' ? ports.get(get.port) : get?.port
      t.equal(port, config?.server.adminPort, `${name}: ${probe} goes to the admin port, off the public connection cap`)
    }
  }
})

t.test('streams can drain: terminationGracePeriodSeconds exceeds the preStop sleep plus SHUTDOWN_GRACE_SECONDS', async (t) => {
  for (const name of OVERLAYS) {
    const found = overlay(t, name)
    if (found === undefined) continue
    const { pod, container } = gatewayDeployment(found.objects)
    const config = gatewayConfig(t, found)?.config
    const sleep = container.lifecycle?.preStop?.sleep?.seconds
    t.ok(typeof sleep === 'number' && sleep > 0, `${name}: preStop waits for the endpoints to be removed`)
    const grace = (config?.server.shutdownGraceMs ?? NaN) / 1000
    t.equal(grace, Number(envValue(container, 'SHUTDOWN_GRACE_SECONDS')), `${name}: the manifest pins SHUTDOWN_GRACE_SECONDS`)
    t.ok((pod.terminationGracePeriodSeconds ?? 30) > (sleep ?? 0) + grace, `${name}: ${pod.terminationGracePeriodSeconds} s > ${sleep} s + ${grace} s`)
    t.equal(
      gatewayDeployment(found.objects).deployment.spec?.strategy?.rollingUpdate?.maxUnavailable,
      0,
      `${name}: a rollout keeps full capacity while old pods drain`
    )
  }
})

t.test('the container runs as non-root on a read-only root filesystem, with no capability and no way to gain one', async (t) => {
  for (const name of OVERLAYS) {
    const found = overlay(t, name)
    if (found === undefined) continue
    const { pod, container } = gatewayDeployment(found.objects)
    const context = { ...pod.securityContext, ...container.securityContext }
    t.equal(context.runAsNonRoot, true, `${name}: runAsNonRoot`)
    t.equal(context.runAsUser, 1000, `${name}: the image's node user, numeric so the kubelet can verify it`)
    t.equal(container.securityContext?.allowPrivilegeEscalation, false, `${name}: allowPrivilegeEscalation: false`)
    t.equal(container.securityContext?.readOnlyRootFilesystem, true, `${name}: readOnlyRootFilesystem`)
    t.same(container.securityContext?.capabilities, { drop: ['ALL'] }, `${name}: every capability dropped, none added`)
    t.equal(context.seccompProfile?.type, 'RuntimeDefault', `${name}: RuntimeDefault seccomp`)
    t.ok(
      container.volumeMounts?.every((mount) => mount.readOnly === true),
      `${name}: no writable volume either`
    )
    t.equal(pod.automountServiceAccountToken, false, `${name}: no Kubernetes API token`)
    const [namespace] = only<INamespace>(found.objects, 'Namespace')
    t.equal(
      namespace?.metadata?.labels?.['pod-security.kubernetes.io/enforce'],
      'restricted',
      `${name}: the namespace enforces the restricted Pod Security Standard`
    )
  }
})

t.test('the policy file comes from a ConfigMap mounted as a directory, which keeps its name so updates reach running pods', async (t) => {
  for (const name of OVERLAYS) {
    const found = overlay(t, name)
    if (found === undefined) continue
    const { pod, container } = gatewayDeployment(found.objects)
    t.ok(
      container.volumeMounts?.every((mount) => mount.subPath === undefined && mount.subPathExpr === undefined),
      `${name}: no subPath mount (it would never see an update)`
    )
    const file = envValue(container, 'GATEWAY_CONFIG_FILE') ?? ''
    const mount = container.volumeMounts?.find((candidate) => file.startsWith(`${candidate.mountPath}/`))
    const volume = pod.volumes?.find((candidate) => candidate.name === mount?.name)
    t.ok(volume?.configMap, `${name}: GATEWAY_CONFIG_FILE (${file}) is in a ConfigMap volume`)
    const map = only<IConfigMap>(found.objects, 'ConfigMap').find((candidate) => candidate.metadata?.name === volume?.configMap?.name)
    t.ok(map?.data?.[posix.relative(mount?.mountPath ?? '', file)], `${name}: and that ConfigMap holds the file`)
    t.equal(
      map?.metadata?.name,
      'agent-studio-gateway-policy',
      `${name}: no content hash in its name: an edit updates it in place, and the gateway reloads it without a restart`
    )
  }
})

t.test('secrets reach the gateway only as files (NAME_FILE), from a Secret whose name changes with its content', async (t) => {
  for (const name of OVERLAYS) {
    const found = overlay(t, name)
    if (found === undefined) continue
    const { pod, container } = gatewayDeployment(found.objects)
    const env = container.env ?? []
    for (const secret of SECRET_NAMES)
      t.notOk(
        env.some((variable) => variable.name === secret),
        `${name}: ${secret} is not an environment value`
      )
    t.notOk(
      env.some((variable) => variable.valueFrom?.secretKeyRef !== undefined),
      `${name}: no secretKeyRef`
    )
    t.notOk(
      container.envFrom?.some((source) => source.secretRef !== undefined),
      `${name}: no envFrom secretRef`
    )
    const envMaps = only<IConfigMap>(found.objects, 'ConfigMap').filter((map) =>
      container.envFrom?.some((source) => source.configMapRef?.name === map.metadata?.name)
    )
    t.same(
      envMaps.flatMap((map) => Object.keys(map.data ?? {}).filter((key) => SECRET_NAMES.includes(key))),
      [],
      `${name}: nor in the env ConfigMap`
    )

    const secretVolume = pod.volumes?.find((volume) => volume.secret !== undefined)
    const mount = container.volumeMounts?.find((candidate) => candidate.name === secretVolume?.name)
    const [secret] = only<ISecret>(found.objects, 'Secret')
    t.equal(secretVolume?.secret?.secretName, secret?.metadata?.name, `${name}: the Secret is mounted`)
    t.equal(secretVolume?.secret?.defaultMode, 0o440, `${name}: its files readable by the gateway's group only`)
    t.match(secret?.metadata?.name, /^agent-studio-gateway-[a-z0-9]{10}$/, `${name}: a changed Secret gets a new name, so applying it rolls the pods`)
    const used = env
      .filter((variable) => variable.name.endsWith('_FILE') && variable.value?.startsWith(`${mount?.mountPath}/`))
      .map((variable) => [variable.name.slice(0, -'_FILE'.length), variable.value!.slice(`${mount!.mountPath}/`.length)] as const)
    t.same(
      used.map(([variable]) => variable).sort(),
      ['ALGOLIA_API_KEY', 'ALGOLIA_KEY_ID', 'ALGOLIA_SEARCH_KEY', 'ALGOLIA_SECRET_KEY', 'REDIS_URL', 'SESSION_JWT_SECRET'],
      `${name}: each secret as NAME_FILE`
    )
    t.same(used.map(([, key]) => key).sort(), Object.keys(secret?.data ?? {}).sort(), `${name}: every key of the Secret is read, and every file read is in it`)
    const ignore = readFileSync(join(ROOT, 'overlays', name, 'secrets', '.gitignore'), 'utf8').split('\n')
    t.ok(ignore.includes('*') && ignore.includes('!.gitignore'), `${name}: the operator's secret files are never committed`)
  }
})

t.test('resources follow the measured memory per open stream (bench/README.md)', async (t) => {
  // "RSS MiB: before / 9,550 open / closed / open again / closed again" of the deployed gateway:
  // the worse of the two rounds' growth per open stream.
  const bench = readFileSync('bench/README.md', 'utf8').split('\n')
  const cells = (line: string) =>
    line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim())
  // The RSS row, and the header of its own table (the nearest one above it).
  const at = bench.findIndex((line) => line.startsWith('| RSS MiB: before /'))
  const header = cells(bench.slice(0, at).findLast((line) => line.startsWith('| figure |'))!)
  const row = cells(bench[at]!)
  const streams = Number(/before \/ ([\d,]+) open/.exec(row[0]!)![1]!.replaceAll(',', ''))
  const [before, open, , openAgain] = row[header.indexOf('gateway (deployed)')]!.split('/').map(Number) as [number, number, number, number]
  const perStreamBytes = ((Math.max(open, openAgain) - before) * 1024 ** 2) / streams
  const kib = Math.round(perStreamBytes / 1024)
  t.ok(kib > 0 && before > 0, `bench figures read: ${before} MiB idle, ${kib} KiB per open stream`)

  const source = readFileSync(join(ROOT, 'base', 'deployment.yaml'), 'utf8')
  const above = source.slice(0, source.indexOf('resources:')).split('\n').slice(0, -1).reverse()
  const comment = above.slice(
    0,
    above.findIndex((line) => !line.trim().startsWith('#'))
  ) // the block right above
  t.match(comment.join('\n'), /bench\/README\.md/, 'the resources cite the benchmark')
  t.match(comment.join('\n'), new RegExp(`\\b${kib} KiB\\b`), `and its per-stream figure (${kib} KiB)`)

  for (const name of OVERLAYS) {
    const found = overlay(t, name)
    if (found === undefined) continue
    const { container } = gatewayDeployment(found.objects)
    const { requests, limits } = container.resources ?? {}
    for (const resource of ['cpu', 'memory'] as const) {
      t.ok(requests?.[resource], `${name}: a ${resource} request`)
      t.ok(limits?.[resource], `${name}: a ${resource} limit`)
    }
    const limit = bytes(limits?.memory ?? 0)
    t.equal(bytes(requests?.memory ?? 0), limit, `${name}: memory request = limit (memory is never overcommitted)`)
    const config = gatewayConfig(t, found)?.config
    const connections = config?.server.maxConnections ?? 0
    t.ok(connections > 0, `${name}: MAX_CONNECTIONS is set, not derived from a container's huge descriptor limit`)
    t.ok(
      before * 1024 ** 2 + connections * perStreamBytes < limit,
      `${name}: ${connections} streams fit: ${before} MiB + ${connections} x ${kib} KiB < ${limit / 1024 ** 2} MiB`
    )
    const heap = Number(/--max-old-space-size=(\d+)/.exec(envValue(container, 'NODE_OPTIONS') ?? '')?.[1])
    t.ok(heap * 1024 ** 2 <= limit - 64 * 1024 ** 2, `${name}: V8's heap ceiling (${heap} MiB) leaves room under the limit`)
  }
})

t.test('production: three replicas or more under an autoscaler, a disruption budget, and spread over nodes and zones', async (t) => {
  const found = overlay(t, 'production')
  if (found === undefined) return
  const { deployment, pod } = gatewayDeployment(found.objects)
  const podLabels = deployment.spec!.template.metadata?.labels
  const [hpa] = only<IHorizontalPodAutoscaler>(found.objects, 'HorizontalPodAutoscaler')
  t.same(hpa?.spec?.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata?.name }, 'the autoscaler scales the gateway')
  t.equal(hpa?.spec?.minReplicas, 3, 'at least 3 replicas')
  t.ok((hpa?.spec?.maxReplicas ?? 0) > 3, 'and room to grow')
  t.equal(deployment.spec?.replicas, undefined, 'the autoscaler alone owns the count: an apply never scales it back down')
  t.ok(
    hpa?.spec?.metrics?.some((metric) => metric.resource?.name === 'cpu'),
    'scaled on CPU, which the pod requests'
  )

  const [pdb] = only<IPodDisruptionBudget>(found.objects, 'PodDisruptionBudget')
  t.ok(selects(pdb?.spec?.selector?.matchLabels, podLabels), 'the disruption budget covers the gateway pods')
  t.equal(pdb?.spec?.maxUnavailable, 1, 'one replica at a time')

  const spread = pod.topologySpreadConstraints ?? []
  t.same(spread.map((constraint) => constraint.topologyKey).sort(), ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'], 'spread over nodes and zones')
  for (const constraint of spread)
    t.ok(selects(constraint.labelSelector?.matchLabels, podLabels), `spread over ${constraint.topologyKey} counts the gateway pods`)
})

t.test('production: the NetworkPolicy lets only the ingress controller reach the public port and only Prometheus the admin port', async (t) => {
  const found = overlay(t, 'production')
  if (found === undefined) return
  const { deployment } = gatewayDeployment(found.objects)
  const [policy] = only<INetworkPolicy>(found.objects, 'NetworkPolicy')
  t.ok(selects(policy?.spec?.podSelector?.matchLabels, deployment.spec!.template.metadata?.labels), 'it applies to the gateway pods')
  t.same(policy?.spec?.policyTypes, ['Ingress', 'Egress'], 'both directions are restricted')
  const rules = policy?.spec?.ingress ?? []
  t.ok(
    rules.every((rule) => (rule.from ?? []).length > 0 && (rule.ports ?? []).length > 0),
    'every ingress rule names its sources and ports (none is open to all)'
  )
  const forPort = (port: string) => rules.filter((rule) => rule.ports?.some((candidate) => candidate.port === port))
  t.same(
    forPort('http').flatMap((rule) => rule.from!.map((peer) => peer.namespaceSelector?.matchLabels)),
    [{ 'kubernetes.io/metadata.name': 'ingress-nginx' }],
    'public port: the ingress controller'
  )
  t.same(
    forPort('admin').flatMap((rule) => rule.from!.map((peer) => [peer.namespaceSelector?.matchLabels, peer.podSelector?.matchLabels])),
    [[{ 'kubernetes.io/metadata.name': 'monitoring' }, { 'app.kubernetes.io/name': 'prometheus' }]],
    'admin port: Prometheus'
  )
  t.equal(rules.length, 2, 'nothing else')
  const egressPorts = (policy?.spec?.egress ?? []).flatMap((rule) => rule.ports?.map((port) => `${port.port}/${port.protocol}`) ?? [])
  t.same(egressPorts.sort(), ['443/TCP', '53/TCP', '53/UDP', '6379/TCP', '6380/TCP'], 'out: DNS, Redis and HTTPS only')
})

t.test("production: a ServiceMonitor scrapes every replica's admin port under the job the alerts expect", async (t) => {
  const found = overlay(t, 'production')
  if (found === undefined) return
  const services = only<IService>(found.objects, 'Service')
  const [monitor] = only<IServiceMonitor>(found.objects, 'ServiceMonitor')
  const scraped = services.filter((service) => selects(monitor?.spec.selector.matchLabels, service.metadata?.labels))
  t.equal(scraped.length, 1, 'it selects one Service')
  const admin = scraped[0]
  t.equal(admin?.spec?.clusterIP, 'None', 'headless: each replica is scraped, not one behind a virtual IP')
  const endpoint = monitor?.spec.endpoints?.[0]
  const port = admin?.spec?.ports?.find((candidate) => candidate.name === endpoint?.port)
  t.equal(port?.targetPort, 'admin', 'its port is the admin listener')
  t.equal(endpoint?.path, '/metrics', 'it scrapes /metrics')
  const job = admin?.metadata?.labels?.[monitor?.spec.jobLabel ?? '']
  const alerts = readFileSync('deploy/prometheus/alerts.yml', 'utf8')
  t.equal(job, /up\{job="([^"]+)"\}/.exec(alerts)?.[1], `job="${job}", as GatewayDown expects`)
  const publicService = services.find((service) => service.metadata?.name === 'agent-studio-gateway')
  t.same(
    publicService?.spec?.ports?.map((candidate) => candidate.targetPort),
    ['http'],
    'the public Service does not expose the admin port'
  )
})

t.test('minimal: one replica, scraped through the usual prometheus.io annotations, and nothing of production', async (t) => {
  const found = overlay(t, 'minimal')
  if (found === undefined) return
  const { deployment } = gatewayDeployment(found.objects)
  t.equal(deployment.spec?.replicas, 1, 'one replica')
  const config = gatewayConfig(t, found)?.config
  t.same(
    deployment.spec?.template.metadata?.annotations,
    { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(config?.server.adminPort), 'prometheus.io/path': '/metrics' },
    'annotations point the scraper at the admin port'
  )
  t.same(
    found.objects
      .map((object) => object.kind)
      .filter((kind) => ['HorizontalPodAutoscaler', 'PodDisruptionBudget', 'NetworkPolicy', 'ServiceMonitor'].includes(kind)),
    [],
    'no autoscaler, budget, policy or ServiceMonitor'
  )
  for (const object of found.objects.filter((candidate) => candidate.kind !== 'Namespace')) {
    t.equal(object.metadata.namespace, 'agent-studio-gateway', `${object.kind} ${object.metadata.name} is in the gateway's namespace`)
  }
})
