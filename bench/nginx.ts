// Benchmark helper: nginx as the practical limit of one proxy hop. One process (no master, one
// worker, like the single-threaded proxies it is compared with), no access log, keep-alive to the
// stand-in, responses unbuffered so events pass as they come, the three Algolia headers injected
// with a fixed user token: what a bare proxy does, in C.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const NGINX = '/usr/sbin/nginx'

export interface NginxOptions {
  readonly dir: string
  readonly port: number
  readonly upstream: URL
  readonly headers: Record<string, string>
  readonly connections: number
}

export function nginxAvailable(): boolean {
  return existsSync(NGINX)
}

export function startNginx(options: NginxOptions, spawnIt: (file: string, args: string[]) => ChildProcess = spawn): ChildProcess {
  const root = join(options.dir, 'nginx')
  mkdirSync(root, { recursive: true })
  const headers = Object.entries(options.headers)
    .map(([name, value]) => `      proxy_set_header ${name} "${value}";`)
    .join('\n')
  const conf = join(root, 'nginx.conf')
  writeFileSync(
    conf,
    `daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile ${options.connections * 2 + 100};
pid ${root}/nginx.pid;
error_log ${root}/error.log warn;
events { worker_connections ${options.connections * 2 + 100}; }
http {
  access_log off;
  client_body_temp_path ${root}/body;
  proxy_temp_path ${root}/proxy;
  fastcgi_temp_path ${root}/fastcgi;
  uwsgi_temp_path ${root}/uwsgi;
  scgi_temp_path ${root}/scgi;
  client_max_body_size 2m;
  upstream standin {
    server ${options.upstream.host};
    keepalive 1024;
  }
  server {
    listen 127.0.0.1:${options.port} backlog=4096;
    location /agent-studio/ {
      proxy_pass http://standin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering on;
${headers}
    }
  }
}
`
  )
  return spawnIt(NGINX, ['-c', conf, '-p', root])
}
