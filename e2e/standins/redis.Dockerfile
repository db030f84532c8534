# Stand-in for redis:7: Debian's Redis 7.0 server and redis-cli, listening on
# all addresses without protected mode (as the official image), data in /data.
ARG BASE=preflight-standin/debian:bookworm
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server redis-tools \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir /data && chown redis:redis /data
VOLUME /data
WORKDIR /data
USER redis
LABEL preflight.standin="redis:7"
EXPOSE 6379
CMD ["redis-server", "--protected-mode", "no"]
