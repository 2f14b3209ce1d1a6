# One image with every Parlor binary; docker-compose.yml picks the command.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --workspace --bins

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/gateway /src/target/release/session \
     /src/target/release/ledger /src/target/release/projector /src/target/release/parlor \
     /usr/local/bin/
USER nobody
