#!/usr/bin/env bash
# Deploys one commit to an environment (called by bitbucket-pipelines.yml).
# Builds docker/Dockerfile, pushes it to $IMAGE_REPOSITORY, and rolls the compose stack on $DEPLOY_HOST.
# Required variables (Bitbucket deployment variables): IMAGE_REPOSITORY, DEPLOY_HOST, DEPLOY_SSH_USER.
set -euo pipefail
environment="${1:?usage: scripts/deploy.sh <staging|production> <commit>}"
commit="${2:?usage: scripts/deploy.sh <staging|production> <commit>}"
: "${IMAGE_REPOSITORY:?set IMAGE_REPOSITORY}" "${DEPLOY_HOST:?set DEPLOY_HOST}" "${DEPLOY_SSH_USER:?set DEPLOY_SSH_USER}"

image="${IMAGE_REPOSITORY}:${commit}"
docker build -f docker/Dockerfile -t "$image" .
docker push "$image"
# The host keeps its own env file with the secrets (never in the repository); migrations run at start-up.
ssh "${DEPLOY_SSH_USER}@${DEPLOY_HOST}" \
  "cd /srv/tally-${environment} && TALLY_IMAGE='${image}' docker compose pull && TALLY_IMAGE='${image}' docker compose up -d --wait"
