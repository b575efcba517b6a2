# An image that runs `kit grade` on Linux wherever Docker runs: on macOS and Windows (Docker Desktop's
# Linux VM) too. From the kit's folder, with the class in ./submissions (one folder or .zip per student):
#
#   docker build -t backprop-kit-grader . && docker run --rm --network none --cap-add SYS_ADMIN --cap-add NET_ADMIN --security-opt seccomp=unconfined --security-opt apparmor=unconfined -v "$PWD/submissions:/class:ro" -v "$PWD/grading-state:/state" -v "$PWD/out:/out" backprop-kit-grader grade /class --out /out/grades
#
# The grade book is then in ./out/grades (add --force to replace it when regrading; podman: make the
# three folders first). ./grading-state keeps the course's grading seed (made on the first run, in
# grading-state/config/backprop-kit/: keep it, and a copy) and the drawn inputs: a new container would
# otherwise make a new seed and grade on other inputs, so the image refuses to run without a folder
# mounted at /state.
#
# The flags. kit grade runs as root in the container, so each student runs as a user of its own, and
# makes bubblewrap's namespaces (grading/isolation.py), which need CAP_SYS_ADMIN, and CAP_NET_ADMIN
# for the loopback device of the new network namespace: Docker grants neither by default
# (https://docs.docker.com/engine/containers/run/#runtime-privilege-and-linux-capabilities). Docker's
# default seccomp profile never allows pivot_root, which bubblewrap calls
# (https://docs.docker.com/engine/security/seccomp/, https://github.com/moby/profiles/blob/main/seccomp/default_linux.go),
# and AppArmor's docker-default profile denies mount (https://docs.docker.com/engine/security/apparmor/);
# see also https://github.com/containers/bubblewrap/issues/505. The trade-off: these loosen the
# container's own confinement of the grader, which is trusted; no student process holds any of it
# (each drops every capability and loads the kit's own seccomp filter), but a student who broke out of
# kit grade's sandbox would find the container easier to leave (with Docker Desktop, for its Linux VM,
# which sees the folders shared with it). Without the four flags kit grade still runs, as on
# Gradescope: no namespaces, the other layers hold, and it says so before grading. --network none: no
# network at all, which grading does not need. Not --privileged: it adds every capability and device
# besides, and gave kit grade no cgroup per student either when tried (podman, cgroup v1); on cgroup
# v2 the kernel lets a cgroup that holds a process (the grader) give limits to cgroups below it only
# at the hierarchy's root, which no container is (grading/cgroups.py makes them below the grader's own).
FROM debian:bookworm-20250520-slim

# bubblewrap: the students' namespaces; python3-seccomp: libseccomp's bindings for the system-call
# filter, which the kit loads from /usr/lib/python3/dist-packages (grading/syscall_filter.py), as in
# .ci/run's plain venv; Debian's python3 is 3.11, the kit's floor
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        bubblewrap python3 python3-venv python3-seccomp \
    && rm -rf /var/lib/apt/lists/*

# torch's CPU build, pinned as in the README's install command, from the index `kit export` installs
# it from (grading/platforms: TORCH, TORCH_CPU_INDEX; a mirror: --build-arg TORCH_INDEX=URL), then the kit
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN python3 -m venv /opt/backprop-kit \
    && /opt/backprop-kit/bin/pip install --no-cache-dir torch==2.13.0 --index-url "$TORCH_INDEX"
# only what the kit is made of comes in (.dockerignore): never a class, a seed or solutions/
COPY . /tmp/backprop-kit
RUN /opt/backprop-kit/bin/pip install --no-cache-dir /tmp/backprop-kit && rm -rf /tmp/backprop-kit

ENV PATH=/opt/backprop-kit/bin:$PATH XDG_CONFIG_HOME=/state/config XDG_CACHE_HOME=/state/cache
ENTRYPOINT ["/bin/sh", "-c", "mountpoint -q /state || { echo 'kit grade (container): mount a folder of yours at /state, e.g. -v \"$PWD/grading-state:/state\": it keeps the grading seed, without which every run grades on new inputs' >&2; exit 2; }; exec kit \"$@\"", "kit"]
CMD ["grade", "/class", "--out", "/out/grades"]
