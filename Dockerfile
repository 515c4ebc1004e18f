# Backstop Keeper container image. See docs/container.md.
#
#   podman build --format docker -t backstop-keeper .    (or scripts/container build)
#   docker build -t backstop-keeper .
#
# Two stages: `build` compiles the keeper (Release, only the `keeper`
# target); the runtime stage holds the stripped binary, its shared
# libraries, CA certificates and curl for the health check, nothing else.
# (--format docker keeps the HEALTHCHECK: the OCI image format has none.)

ARG DEBIAN_IMAGE=docker.io/library/debian:bookworm-slim

# --- build stage -----------------------------------------------------------
FROM ${DEBIAN_IMAGE} AS build

RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        cmake make pkg-config gcc libc6-dev binutils \
        libsecp256k1-dev nettle-dev libcjson-dev libyaml-dev \
        libcurl4-openssl-dev libwebsockets-dev libuv1-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/*

# Debian's usual hardening flags; CMake adds them to the Release ones.
ENV CFLAGS="-fstack-protector-strong -D_FORTIFY_SOURCE=2 -fcf-protection" \
    LDFLAGS="-Wl,-z,relro,-z,now"

# Only what CMakeLists.txt compiles into the keeper: .dockerignore lets
# nothing else into the context. One layer, and the build tree is deleted
# in the step that made it, so a source change leaves ~2 MB of build cache.
COPY . /src
RUN cmake -S /src -B /tmp/build -DCMAKE_BUILD_TYPE=Release \
    && cmake --build /tmp/build --target keeper -j"$(nproc)" \
    && strip -o /usr/local/bin/keeper /tmp/build/keeper \
    && rm -rf /tmp/build

# --- runtime stage ---------------------------------------------------------
FROM ${DEBIAN_IMAGE}

LABEL org.opencontainers.image.title="backstop-keeper" \
      org.opencontainers.image.description="Backstop Keeper: keeps a perpetuals protocol's reserve fund solvent"

# Like Debian's slim images: no manuals, docs (licences excepted) or
# translations from the packages below.
RUN printf '%s\n' \
        'path-exclude /usr/share/doc/*' \
        'path-include /usr/share/doc/*/copyright' \
        'path-exclude /usr/share/man/*' \
        'path-exclude /usr/share/info/*' \
        'path-exclude /usr/share/locale/*' \
        'path-exclude /usr/share/lintian/*' \
        > /etc/dpkg/dpkg.cfg.d/keeper-slim

# The libraries `keeper` links (readelf -d: NEEDED), the libuv event-loop
# plugin libwebsockets loads at run time (dlopen, so no NEEDED entry),
# CA certificates for https/wss endpoints, and curl for HEALTHCHECK.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libsecp256k1-1 libnettle8 libcjson1 libyaml-0-2 libssl3 libcurl4 \
        libuv1 libwebsockets17 libwebsockets-evlib-uv \
        ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt \
        /var/log/dpkg.log

# A fixed non-root uid, so that mounted secrets can be chowned to it.
RUN groupadd --gid 10001 keeper \
    && useradd --uid 10001 --gid keeper --no-create-home --no-log-init \
        --home-dir /var/lib/keeper --shell /usr/sbin/nologin keeper \
    && install -d -m 0755 -o root -g root /etc/keeper \
    && install -d -m 0700 -o keeper -g keeper /var/lib/keeper

COPY --from=build /usr/local/bin/keeper /usr/local/bin/keeper
# Fail the build, not the first start, when a library is missing.
RUN if ldd /usr/local/bin/keeper | grep 'not found'; then exit 1; fi \
    && /usr/local/bin/keeper --version

# Configuration: one *.yaml per protocol, mounted read-only at /etc/keeper.
# State: /var/lib/keeper, the working directory, a volume.
VOLUME ["/var/lib/keeper"]
WORKDIR /var/lib/keeper
USER keeper:keeper

# /metrics, /healthz, /readyz, /status; the address is the config's
# metrics.listen (0.0.0.0:9464 to be reachable from outside the container).
EXPOSE 9464
# Set KEEPER_HEALTH_URL when metrics.listen uses another port.
ENV KEEPER_HEALTH_URL=http://127.0.0.1:9464/healthz
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS --max-time 4 -o /dev/null "$KEEPER_HEALTH_URL" || exit 1

STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/keeper"]
CMD ["run", "-c", "/etc/keeper", "--state-dir", "/var/lib/keeper"]
