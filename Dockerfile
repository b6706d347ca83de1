# syntax=docker/dockerfile:1
# The controller image: `docker build -t <registry>/sealed-secrets-controller:<version> .`
# from the repository root. Not built in this repository's CI (no container engine there);
# see docs/operations.md ("Building the image").

# Build stage: the workspace's MSRV toolchain on Debian 12. aws-lc-rs (the one crypto
# backend) compiles AWS-LC from C sources, hence cmake, clang and the Go-free defaults.
FROM docker.io/library/rust:1.89-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends cmake clang libclang-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p sealed-secrets-controller \
    && install -D -m 0755 target/release/controller /out/controller

# Runtime stage: distroless with glibc and libgcc only (the binary links them
# dynamically; everything else, AWS-LC included, is static). No shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/controller /usr/local/bin/controller
# Same UID/GID as Bitnami's image and the chart's securityContext (runAsUser 1001).
USER 1001:1001
EXPOSE 8080 8081
ENTRYPOINT ["controller"]
