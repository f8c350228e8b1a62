# syntax=docker/dockerfile:1
#
# Sightline CPU image: one statically linked binary on distroless (no libc,
# no shell), running as uid/gid 65532. linux/amd64 only: the CPU kernels in
# llm/tensor/cpu are x86 C (AVX2/AVX-512 with a scalar fallback).
#
#   docker build -t ghcr.io/sightline/sightline:latest .
#   docker run --rm -p 30000:30000 ghcr.io/sightline/sightline:latest          # embedded demo model
#   docker run --rm -p 30000:30000 -v "$PWD/models:/models:ro" ghcr.io/sightline/sightline:latest \
#     --host 0.0.0.0 --enable-metrics --model-path /models/SmolVLM-256M-Instruct
#
# The entrypoint is `sightline serve`; arguments replace the default
# `--host 0.0.0.0`, so pass --host again when giving flags. Other commands:
# docker run --entrypoint /usr/local/bin/sightline IMAGE run --help

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# cgo is required: the CPU kernels are C (they link libm). The binary is
# linked statically against glibc so it runs on distroless/static:
#  - netgo,osusergo: Go's own DNS resolver and user lookup instead of glibc's
#    NSS, which a static binary cannot load;
#  - the linker warns that NVML's dlopen (GPU listing, cmd/sightline/
#    devices_nvml.go) needs the build's glibc at run time: in this image it
#    finds no libnvidia-ml and reports no GPU, which is right for a CPU image.
# The last two commands fail the build if the result is dynamic or does not run.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 go build -trimpath -buildvcs=false -tags netgo,osusergo \
      -ldflags '-s -w -linkmode external -extldflags "-static"' \
      -o /out/sightline ./cmd/sightline \
 && ! readelf -l /out/sightline | grep -q 'program interpreter' \
 && /out/sightline serve --help >/dev/null 2>&1

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sightline /usr/local/bin/sightline
USER 65532:65532
EXPOSE 30000
ENTRYPOINT ["/usr/local/bin/sightline", "serve"]
CMD ["--host", "0.0.0.0"]
