# Placeholder until the container issue: builds the keeper binary only.
FROM docker.io/library/debian:bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config libsecp256k1-dev nettle-dev \
        libcjson-dev libyaml-dev libssl-dev && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release \
    && cmake --build /build --target keeper -j

FROM docker.io/library/debian:bookworm-slim
COPY --from=build /build/keeper /usr/local/bin/keeper
USER 65534
ENTRYPOINT ["/usr/local/bin/keeper"]
