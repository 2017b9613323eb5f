# Sourced from the repository's root, not run: `. scripts/use-node.sh` (POSIX sh; npm's scripts
# source it too). Puts the Node.js this project supports first on PATH, installing it from the
# npm registry (the `node-<os>-<arch>` package: the official release's binary) into .node/ when
# the machine's own Node is older than the floor. npm then runs on that Node as well, so `npm ci`
# checks every package's `engines` against the Node the tests and the image use (no EBADENGINE).
#
# The floor is package.json's `engines.node` (>=24) and the Dockerfile's `node:24`; the version
# installed is below. test/deploy/node-version.test.ts checks that the three agree.
ASG_NODE_VERSION=24.22.3

asg_use_node() {
  floor="${ASG_NODE_VERSION%%.*}"
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  [ "$major" -ge "$floor" ] && return 0
  os="$(uname -s | tr '[:upper:]' '[:lower:]')"
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "use-node: no Node.js package for $(uname -m); install Node.js $floor or later" >&2; return 1 ;;
  esac
  dir="$(pwd)/.node/$ASG_NODE_VERSION"
  if [ ! -x "$dir/bin/node" ]; then
    echo "use-node: Node.js $major is older than $floor; installing $ASG_NODE_VERSION (npm package node-$os-$arch) into .node/" >&2
    mkdir -p "$dir/bin" || return 1
    npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-$os-$arch@$ASG_NODE_VERSION" >/dev/null || return 1
    ln -sf "../node_modules/node-$os-$arch/bin/node" "$dir/bin/node" || return 1
  fi
  PATH="$dir/bin:$PATH"
  export PATH
  hash -r 2>/dev/null || true
}
asg_use_node
