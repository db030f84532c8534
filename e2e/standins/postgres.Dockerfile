# Stand-in for postgres:15: Debian's PostgreSQL 15 with the official image's
# behaviour the stack relies on: PGDATA=/var/lib/postgresql/data, the
# POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB first-run initialisation
# (a temporary server on the Unix socket only, then the real one on all
# addresses), password authentication from other hosts, pg_isready on PATH,
# runs as the postgres user, stops on SIGINT (fast shutdown).
ARG BASE=preflight-standin/debian:bookworm
FROM ${BASE}
RUN mkdir -p /etc/postgresql-common \
 && echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* \
 && sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" /usr/share/postgresql/15/postgresql.conf.sample \
 && mkdir -p /var/run/postgresql /var/lib/postgresql/data \
 && chown -R postgres:postgres /var/run/postgresql /var/lib/postgresql \
 && chmod 3777 /var/run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data \
    LANG=C.UTF-8
VOLUME /var/lib/postgresql/data
LABEL preflight.standin="postgres:15"
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
