# Stand-in for nginxinc/nginx-unprivileged:1.27-alpine: Debian's nginx run as
# uid 101 (not root), serving /usr/share/nginx/html on port 8080 with the
# server blocks of /etc/nginx/conf.d, pid and temporary files in /tmp, logs
# to stdout/stderr, and a `wget` for health checks (busybox's in the real one).
ARG BASE=preflight-standin/debian:bookworm
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx-light wget \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled /etc/nginx/conf.d/* \
 && groupadd --system --gid 101 nginx \
 && useradd --system --uid 101 --gid 101 --no-create-home --shell /usr/sbin/nologin nginx \
 && mkdir -p /usr/share/nginx/html \
 && ln -sf /dev/stdout /var/log/nginx/access.log \
 && ln -sf /dev/stderr /var/log/nginx/error.log
COPY nginx.conf /etc/nginx/nginx.conf
COPY nginx-default.conf /etc/nginx/conf.d/default.conf
COPY nginx-index.html /usr/share/nginx/html/index.html
USER 101
LABEL preflight.standin="nginxinc/nginx-unprivileged:1.27-alpine"
EXPOSE 8080
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
