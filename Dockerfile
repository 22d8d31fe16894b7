# syntax=docker/dockerfile:1
# One image for every service; compose picks the binary with `command:`.

FROM rust:1.95-bookworm AS builder
# librdkafka is vendored by rdkafka-sys: it needs only a C/C++ toolchain, make and zlib.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential pkg-config zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Cache mounts keep the registry and target/ between builds (librdkafka alone takes
# minutes); binaries are copied out in the same step because the mount is not in the layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bins \
    && mkdir -p /out \
    && cp target/release/command-api target/release/query-api \
          target/release/projector target/release/platform /out/

FROM debian:bookworm-slim
# curl is only for container healthchecks against /healthz and /readyz.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app
COPY --from=builder /out/ /usr/local/bin/
# Fail the build, not the deploy, if a binary links a library this image lacks.
RUN ! ldd /usr/local/bin/command-api /usr/local/bin/query-api \
          /usr/local/bin/projector /usr/local/bin/platform | grep 'not found'
USER app
ENV HTTP_ADDR=0.0.0.0:8080 \
    LOG_FORMAT=json
EXPOSE 8080
# Unhealthy while /readyz fails (PostgreSQL, or Kafka when configured, out of reach) or the
# process does not answer; the port follows HTTP_ADDR. Exit status 1, as Docker expects.
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=12 \
    CMD curl -fsS -o /dev/null "http://127.0.0.1:${HTTP_ADDR##*:}/readyz" || exit 1
# All-in-one by default; compose overrides with command-api, query-api or projector.
CMD ["platform"]
