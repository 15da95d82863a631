# syntax=docker/dockerfile:1
# Signal: one static binary on an empty base image.
#   docker build -t signal --build-arg VERSION=$(git describe --tags --always) .
#   docker run -p 8080:8080 -p 8084:8084 -v signal-data:/data signal
# cmd/signal/deploy_test.go builds the binary with this file's go build line.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/signal ./cmd/signal
# The data dir, owned by the user the server runs as (a volume mounted on
# an empty path takes this ownership).
RUN mkdir -p /out/data && chown 65532:65532 /out/data && chmod 0700 /out/data

FROM scratch
# Root certificates for HTTPS to the vendors' APIs.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/signal /signal
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV SIGNAL_DATA_DIR=/data \
    SIGNAL_GATEWAY_ADDR=:8080 \
    SIGNAL_ADMIN_ADDR=:8084 \
    SIGNAL_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080 8084
# No shell or curl here: the binary asks its own admin listener for /readyz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["/signal", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/signal"]
CMD ["serve"]
