# The API image for docker-compose.yml (production). Development uses `make run` instead.
FROM node:20-bookworm-slim AS web
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
# The map's label glyphs, made here because the final image has no Node.js (layers/basemap.py serves them).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core && rm -rf /var/lib/apt/lists/* \
 && for pair in "DejaVu Sans Book:DejaVuSans.ttf" "DejaVu Sans Bold:DejaVuSans-Bold.ttf"; do \
      dir="node_modules/.cache/monitor-glyphs/${pair%%:*}"; mkdir -p "$dir"; \
      node node_modules/fontnik/bin/build-glyphs "/usr/share/fonts/truetype/dejavu/${pair##*:}" "$dir"; \
    done

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY gis gis
COPY api api
COPY layers layers
COPY data data
COPY cli cli
RUN pip install --no-cache-dir .
COPY --from=web /app/node_modules node_modules
RUN useradd --system monitor
USER monitor
EXPOSE 8000
CMD ["sh", "-c", "monitor db migrate && monitor load geography && monitor serve --host 0.0.0.0 --workers 2"]
