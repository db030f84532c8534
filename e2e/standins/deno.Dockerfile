# Stand-in for denoland/deno:2.9.6: this host's own `deno` 2.9.6 binary (the
# official release, installed from npm) on Debian bookworm, with the host's
# CA bundle so that Deno reaches the npm registry from inside image builds.
ARG BASE=preflight-standin/debian:bookworm
FROM ${BASE}
COPY deno /usr/bin/deno
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV DENO_DIR=/deno-dir \
    DENO_CERT=/etc/ssl/certs/ca-certificates.crt \
    DENO_NO_UPDATE_CHECK=1
LABEL preflight.standin="denoland/deno:2.9.6"
ENTRYPOINT ["/usr/bin/deno"]
CMD ["--version"]
