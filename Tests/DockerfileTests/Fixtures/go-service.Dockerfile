# syntax=docker/dockerfile:1

# The two-stage Go service: compile in the Go image, ship the static binary alone.
ARG GO_VERSION=1.22
FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /bin/server ./cmd/server

FROM scratch
COPY --from=build /bin/server /bin/server
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/bin/server"]
