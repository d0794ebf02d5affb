# The manager's image for those with a Docker engine (docker buildx build
# --platform linux/amd64,linux/arm64 --build-arg VERSION=v0.1.0 .). Releases
# are built without one by `make image` (hack/ociimage): the same static
# binary, built with the same flags, run as the same user;
# test/release/dockerfile_test.go keeps the two in step.
FROM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=v0.0.0-devel

WORKDIR /workspace
# Cache the module downloads in their own layer.
COPY go.mod go.sum ./
RUN go mod download

COPY cmd/ cmd/
COPY api/ api/
COPY internal/ internal/

# A static binary: no libc needed in the final image.
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w -X github.com/nodewave/nodewave/internal/buildinfo.version=${VERSION}" -o manager ./cmd

# distroless/static: CA certificates and tzdata, no shell, no package manager.
FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /workspace/manager .
USER 65532:65532
ENTRYPOINT ["/manager"]
