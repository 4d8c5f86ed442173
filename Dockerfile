# One image for every Jiceng service; the container's command picks the service:
#   docker run jiceng jiceng serve members
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 JICENG_CONFIG=/app/config/compose.yaml
WORKDIR /app
COPY pyproject.toml ./
COPY shared ./shared
COPY services ./services
COPY config ./config
RUN pip install --no-cache-dir . && for s in services/*/; do pip install --no-cache-dir "$s"; done
RUN useradd --system jiceng && mkdir -p /app/var && chown jiceng /app/var
USER jiceng
CMD ["jiceng", "health"]
