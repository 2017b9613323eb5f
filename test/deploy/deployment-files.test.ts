import { readFileSync } from 'node:fs'
import t from 'tap'
import { parse } from 'yaml'
import { loadConfig } from '../../src/config/load-config.js'
import { ConfigError } from '../../src/config/load-config.js'

// No Docker engine runs here: these checks stand in for `docker compose config`, and
// scripts/verify-image.sh (run by CI) reproduces the Dockerfile's steps.

interface Service {
  image?: string
  build?: string | { context: string; target?: string }
  profiles?: string[]
  environment?: Record<string, string>
  depends_on?: Record<string, unknown> | string[]
  command?: string[]
  healthcheck?: { test?: string[] }
  ports?: string[]
  volumes?: string[]
  networks?: Record<string, { ipv4_address?: string }>
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
  services: Record<string, Service>
  networks?: { default?: { ipam?: { config?: Array<{ subnet?: string }> } } }
}
const dockerfile = readFileSync('Dockerfile', 'utf8')
const nginx = readFileSync('deploy/nginx.conf', 'utf8')

t.test('compose: Redis, two gateway replicas behind one entry point, the stand-in under the demo profile', async (t) => {
  const { services } = compose
  t.same(
    Object.keys(services)
      .filter((name) => !name.startsWith('redis-cluster'))
      .sort(),
    ['gateway-1', 'gateway-2', 'grafana', 'lb', 'prometheus', 'redis', 'standin']
  )
  for (const name of ['gateway-1', 'gateway-2']) {
    const gateway = services[name]!
    t.same(gateway.build, { context: '.', target: 'runtime' }, `${name} is built from the Dockerfile's runtime stage`)
    t.equal(
      gateway.environment?.REDIS_URL,
      '${REDIS_URL:-redis://redis:6379}',
      `${name} shares its limits through Redis (the compose file's, unless REDIS_URL says otherwise)`
    )
    t.match(gateway.depends_on, { redis: { condition: 'service_healthy' } })
    t.notOk(gateway.profiles, `${name} runs in every profile`)
  }
  t.same(services.redis!.healthcheck?.test, ['CMD', 'redis-cli', 'ping'])
  t.same(services.lb!.ports, ['8080:8080'])
  t.ok(services.lb!.volumes?.some((v) => v.startsWith('./deploy/nginx.conf:')))
  t.same(services.standin!.profiles, ['demo'])
  t.same(services.standin!.build, { context: '.', target: 'standin' }, 'the stand-in has an image stage of its own')
  t.not(services.standin!.image, services['gateway-1']!.image, 'and an image of its own')
  t.same(services.standin!.command, ['node', 'standin/dist/main.js'])
  t.match(services['gateway-1']!.environment?.AGENT_STUDIO_URL, /standin:4000\/agent-studio/)
})

t.test('compose: the demo defaults cannot run a production gateway', async (t) => {
  const env = Object.fromEntries(
    Object.entries(compose.services['gateway-1']!.environment!).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/, '$1')])
  )
  const { config } = loadConfig({ ...env, NODE_ENV: 'development' }, { defaultConfigFile: undefined })
  t.same(config.policy.allowedAgentIds, ['demo-agent'])
  try {
    loadConfig({ ...env, NODE_ENV: 'production' }, { defaultConfigFile: undefined })
    t.fail('production accepted demo values')
  } catch (error) {
    t.ok(error instanceof ConfigError)
    const text = (error as ConfigError).problems.join('\n')
    t.match(text, /ALGOLIA_API_KEY: looks like a demo value/)
    t.match(text, /AGENT_STUDIO_URL: must use https under NODE_ENV=production/)
  }
})

t.test('compose: the observability profile scrapes both replicas, and only its Prometheus may read /metrics', async (t) => {
  const { services } = compose
  const prometheus = services.prometheus!
  const grafana = services.grafana!
  t.same(prometheus.profiles, ['observability'])
  t.same(grafana.profiles, ['observability'])
  t.ok(prometheus.volumes?.includes('./deploy/prometheus:/etc/prometheus:ro'), 'the config and the alerts are mounted')
  const scrape = parse(readFileSync('deploy/prometheus/prometheus.yml', 'utf8')) as {
    rule_files: string[]
    scrape_configs: Array<{ job_name: string; metrics_path: string; static_configs: Array<{ targets: string[] }> }>
  }
  t.same(scrape.rule_files, ['alerts.yml'])
  const job = scrape.scrape_configs.find((config) => config.job_name === 'agent-studio-gateway')!
  t.equal(job.metrics_path, '/metrics')
  t.same(job.static_configs.flatMap((config) => config.targets).sort(), ['gateway-1:3000', 'gateway-2:3000'], 'each replica directly, not through nginx')

  const address = prometheus.networks?.default?.ipv4_address
  t.equal(address, '172.28.0.90')
  t.same(
    compose.networks?.default?.ipam?.config?.map((c) => c.subnet),
    ['172.28.0.0/16'],
    'the fixed address is in the compose network'
  )
  const env = Object.fromEntries(Object.entries(services['gateway-1']!.environment!).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/, '$1')]))
  const { config } = loadConfig({ ...env, NODE_ENV: 'development' }, { defaultConfigFile: undefined })
  t.same(config.server.metricsAllowFrom, [address], 'the replicas let exactly that address scrape')

  t.ok(grafana.volumes?.includes('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro'))
  t.ok(
    grafana.volumes?.some((v) => v.startsWith('./deploy/grafana/agent-studio-gateway.json:/var/lib/grafana/dashboards/')),
    'the dashboard is provisioned'
  )
  const datasource = parse(readFileSync('deploy/grafana/provisioning/datasources/prometheus.yml', 'utf8')) as {
    datasources: Array<{ type: string; url: string }>
  }
  t.match(datasource.datasources, [{ type: 'prometheus', url: 'http://prometheus:9090' }])
  const provider = parse(readFileSync('deploy/grafana/provisioning/dashboards/agent-studio-gateway.yml', 'utf8')) as {
    providers: Array<{ options: { path: string } }>
  }
  t.equal(provider.providers[0]!.options.path, '/var/lib/grafana/dashboards')
})

t.test('nginx: both replicas, and streams pass unbuffered', async (t) => {
  t.match(nginx, /server gateway-1:3000;/)
  t.match(nginx, /server gateway-2:3000;/)
  t.match(nginx, /proxy_buffering off;/)
  t.match(nginx, /proxy_http_version 1\.1;/)
  // Issue 19: the gateway believes X-Forwarded-Host/-Proto from nginx, so nginx must set both,
  // never pass a client's through.
  t.match(nginx, /^\s*proxy_set_header X-Forwarded-Proto \$scheme;$/m)
  t.match(nginx, /^\s*proxy_set_header X-Forwarded-Host \$host;$/m)
  // Review finding: a client's traceparent passed through and, believed from nginx, chose the sampled trace id.
  t.match(nginx, /^\s*proxy_set_header traceparent "";$/m)
  t.match(nginx, /^\s*proxy_set_header tracestate "";$/m)
})

t.test('Dockerfile: multi-stage, production dependencies, non-root, LTS base, healthcheck, tini', async (t) => {
  const stages = dockerfile.match(/^FROM .*/gm) ?? []
  t.same(
    stages.map((stage) => stage.split(' AS ')[1]),
    ['build', 'standin-build', 'standin', 'runtime'],
    'the runtime stage is last: a plain docker build builds the gateway'
  )
  for (const stage of stages.filter((stage) => !stage.startsWith('FROM build '))) t.match(stage, /^FROM node:24-/, 'current Node LTS')
  t.match(dockerfile, /npm ci --omit=dev/)
  t.match(dockerfile, /COPY --from=build \/app\/dist \.\/dist/)
  t.match(dockerfile, /^USER node$/m)
  t.match(dockerfile, /^HEALTHCHECK .*\n\s+CMD .*\/healthz/m)
  t.match(dockerfile, /^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m)
  t.match(dockerfile, /^CMD \["node", "dist\/server\.js"\]$/m)
  t.match(dockerfile, /ENV NODE_ENV=production/)
  const runtime = dockerfile.slice(dockerfile.indexOf(' AS runtime'))
  t.notMatch(runtime, /standin/, 'the runtime stage copies nothing of the stand-in')
  const dockerignore = readFileSync('.dockerignore', 'utf8')
  for (const entry of ['node_modules', '.env', '.git', 'test']) t.match(dockerignore, new RegExp(`^${entry.replace('.', '\\.')}$`, 'm'))
})

t.test('compose: the redis-cluster profile makes a 3-master cluster with a replica each, that the replicas can be pointed at', async (t) => {
  const { services } = compose
  const nodes = Object.keys(services)
    .filter((name) => /^redis-cluster-\d$/.test(name))
    .sort()
  t.same(nodes, ['redis-cluster-1', 'redis-cluster-2', 'redis-cluster-3', 'redis-cluster-4', 'redis-cluster-5', 'redis-cluster-6'])
  const addresses = nodes.map((name) => {
    const node = services[name]!
    t.same(node.profiles, ['redis-cluster'], `${name} only in its profile`)
    t.match(node.command?.join(' '), /--cluster-enabled yes/)
    return `${node.networks!.default!.ipv4_address}:6379`
  })
  const create = services['redis-cluster-create']!
  t.same(create.profiles, ['redis-cluster'])
  t.same(create.command, ['redis-cli', '--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'], 'every node, one replica per master')
  t.same(Object.keys(create.depends_on as Record<string, unknown>).sort(), nodes, 'created once every node answers')
  t.match(readFileSync('docker-compose.yml', 'utf8'), 'REDIS_URL=redis://redis-cluster-1:6379 docker compose --profile demo --profile redis-cluster up')
  t.match(readFileSync('docs/operations.md', 'utf8'), 'REDIS_URL=redis://redis-cluster-1:6379 docker compose --profile demo --profile redis-cluster up')
})
