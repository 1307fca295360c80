// VK_LAYER_TESSERA_stats: a Vulkan layer that prints the driver's own statistics of every compute
// pipeline Dawn creates (VK_KHR_pipeline_executable_properties: on NVIDIA the register count and
// binary size; other drivers list spills, instruction counts and the like). Dawn does not expose
// them, and METHOD.md's first question of a slow kernel (registers, spills) needs them. The layer
// turns the extension and its feature on at vkCreateDevice where the driver has it, adds the
// capture flags to vkCreateComputePipelines, and prints one line a pipeline on stderr, so the lines
// fall between a benchmark's own stderr notices in order. Each line names the module by the
// functions its SPIR-V names (Dawn keeps WGSL's names under the disable_symbol_renaming toggle)
// and its workgroup size. With TESSERA_STATS_DIR set it also writes each pipeline's SPIR-V
// (pN.spv, for spirv-dis) and any internal representation the driver gives (pN-eE-iI.txt); with
// TESSERA_STATS_CACHE set too, each pipeline is created into a fresh pipeline cache of the layer's,
// whose data (the driver's compiled binary: NVIDIA's machine code) goes to pN-cache.bin.
// Build and use: bench/shader-stats/README.md.
#include "layer_chain.h"
#include <vulkan/vulkan.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES 64
#define MAX_MODULES 4096

typedef struct {
  void *key;
  VkInstance instance;
  PFN_vkGetInstanceProcAddr next;
  // Looked up at vkCreateInstance: asked later, the loader may answer with the top of the chain.
  PFN_vkEnumerateDeviceExtensionProperties enumerateExtensions;
  PFN_vkGetPhysicalDeviceFeatures2 features2;
  PFN_vkGetPhysicalDeviceProperties properties;
} InstanceEntry;

typedef struct {
  void *key;
  VkDevice device;
  PFN_vkGetDeviceProcAddr next;
  PFN_vkCreateShaderModule createShaderModule;
  PFN_vkCreateComputePipelines createComputePipelines;
  PFN_vkGetPipelineExecutablePropertiesKHR properties;
  PFN_vkGetPipelineExecutableStatisticsKHR statistics;
  PFN_vkGetPipelineExecutableInternalRepresentationsKHR representations;
  PFN_vkCreatePipelineCache createPipelineCache;
  PFN_vkGetPipelineCacheData getPipelineCacheData;
  PFN_vkDestroyPipelineCache destroyPipelineCache;
  PFN_vkDestroyPipeline destroyPipeline;
  int capture;  // the extension and its feature are on for this device
} DeviceEntry;

// VK_KHR_maintenance5's VkPipelineCreateFlags2CreateInfoKHR (newer than the Debian 12 headers).
#define STRUCTURE_TYPE_PIPELINE_CREATE_FLAGS_2_CREATE_INFO 1000470005u
typedef struct {
  VkStructureType sType;
  const void *pNext;
  uint64_t flags;
} PipelineCreateFlags2Info;

// What a pipeline line says of its module: the SPIR-V's size, workgroup size and function names.
typedef struct {
  VkShaderModule module;
  uint32_t words;
  uint32_t local[3];
  char names[512];
  uint32_t *code;  // a copy, kept only with TESSERA_STATS_DIR
} ModuleInfo;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static InstanceEntry instances[MAX_ENTRIES];
static DeviceEntry devices[MAX_ENTRIES];
static ModuleInfo modules[MAX_MODULES];
static int instanceCount, deviceCount, moduleCount, pipelineCount;

static void *keyOf(const void *dispatchable) { return *(void *const *)dispatchable; }

static InstanceEntry *findInstance(void *key) {
  for (int i = 0; i < instanceCount; i++)
    if (instances[i].key == key) return &instances[i];
  // Physical devices share their instance's dispatch table in the loader; the latest instance
  // otherwise (Dawn makes one a process).
  return instanceCount ? &instances[instanceCount - 1] : NULL;
}

static DeviceEntry *findDevice(void *key) {
  for (int i = 0; i < deviceCount; i++)
    if (devices[i].key == key) return &devices[i];
  return NULL;
}

static VKAPI_ATTR VkResult VKAPI_CALL statsCreateInstance(const VkInstanceCreateInfo *info, const VkAllocationCallbacks *alloc, VkInstance *out) {
  VkLayerInstanceLink *link = popInstanceLink(info);
  if (!link) return VK_ERROR_INITIALIZATION_FAILED;
  PFN_vkGetInstanceProcAddr next = link->pfnNextGetInstanceProcAddr;
  PFN_vkCreateInstance create = (PFN_vkCreateInstance)next(VK_NULL_HANDLE, "vkCreateInstance");
  VkResult result = create(info, alloc, out);
  if (result != VK_SUCCESS) return result;
  pthread_mutex_lock(&lock);
  if (instanceCount < MAX_ENTRIES)
    instances[instanceCount++] = (InstanceEntry){keyOf(*out), *out, next, (PFN_vkEnumerateDeviceExtensionProperties)next(*out, "vkEnumerateDeviceExtensionProperties"),
                                                 (PFN_vkGetPhysicalDeviceFeatures2)next(*out, "vkGetPhysicalDeviceFeatures2"), (PFN_vkGetPhysicalDeviceProperties)next(*out, "vkGetPhysicalDeviceProperties")};
  pthread_mutex_unlock(&lock);
  return result;
}

static int hasExtension(PFN_vkEnumerateDeviceExtensionProperties enumerate, VkPhysicalDevice gpu, const char *name) {
  uint32_t count = 0;
  if (!enumerate || enumerate(gpu, NULL, &count, NULL) != VK_SUCCESS) return 0;
  VkExtensionProperties *list = calloc(count, sizeof *list);
  int found = 0;
  if (list && enumerate(gpu, NULL, &count, list) == VK_SUCCESS)
    for (uint32_t i = 0; i < count && !found; i++) found = strcmp(list[i].extensionName, name) == 0;
  free(list);
  return found;
}

static VKAPI_ATTR VkResult VKAPI_CALL statsCreateDevice(VkPhysicalDevice gpu, const VkDeviceCreateInfo *info, const VkAllocationCallbacks *alloc, VkDevice *out) {
  VkLayerDeviceLink *link = popDeviceLink(info);
  if (!link) return VK_ERROR_INITIALIZATION_FAILED;
  PFN_vkGetInstanceProcAddr gipa = link->pfnNextGetInstanceProcAddr;
  PFN_vkGetDeviceProcAddr gdpa = link->pfnNextGetDeviceProcAddr;
  pthread_mutex_lock(&lock);
  InstanceEntry *found = findInstance(keyOf(gpu));
  InstanceEntry ie = found ? *found : (InstanceEntry){0};
  VkInstance instance = ie.instance;
  pthread_mutex_unlock(&lock);
  PFN_vkCreateDevice create = (PFN_vkCreateDevice)gipa(instance, "vkCreateDevice");

  // The feature too: the driver may list the extension yet not support the query.
  const char *ext = VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME;
  int capture = hasExtension(ie.enumerateExtensions, gpu, ext);
  if (capture) {
    PFN_vkGetPhysicalDeviceFeatures2 features2 = ie.features2;
    VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR want = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR};
    VkPhysicalDeviceFeatures2 all = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, &want};
    if (features2) features2(gpu, &all);
    capture = features2 && want.pipelineExecutableInfo;
  }
  VkPhysicalDeviceProperties props;
  PFN_vkGetPhysicalDeviceProperties properties = ie.properties;
  if (properties) properties(gpu, &props); else strcpy(props.deviceName, "?");

  // The caller's create info with the extension added (unless listed) and the feature chained first.
  VkDeviceCreateInfo changed = *info;
  const char **names = NULL;
  VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR feature = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR, (void *)info->pNext, VK_TRUE};
  if (capture) {
    int listed = 0;
    for (uint32_t i = 0; i < info->enabledExtensionCount; i++) listed |= strcmp(info->ppEnabledExtensionNames[i], ext) == 0;
    if (!listed) {
      names = calloc(info->enabledExtensionCount + 1, sizeof *names);
      if (!names) return VK_ERROR_OUT_OF_HOST_MEMORY;
      memcpy(names, info->ppEnabledExtensionNames, info->enabledExtensionCount * sizeof *names);
      names[info->enabledExtensionCount] = ext;
      changed.enabledExtensionCount = info->enabledExtensionCount + 1;
      changed.ppEnabledExtensionNames = names;
    }
    // A caller that chains the feature already keeps its own struct (duplicates are invalid).
    int chained = 0;
    for (const VkBaseInStructure *s = info->pNext; s; s = s->pNext)
      chained |= s->sType == VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR;
    if (!chained) changed.pNext = &feature;
  }
  VkResult result = create(gpu, &changed, alloc, out);
  free(names);
  fprintf(stderr, "tessera-stats: device %s: %s\n", props.deviceName,
          result != VK_SUCCESS ? "vkCreateDevice failed" : capture ? "pipeline statistics on" : "the driver has no VK_KHR_pipeline_executable_properties: no statistics");
  if (result != VK_SUCCESS) return result;
  DeviceEntry entry = {keyOf(*out), *out, gdpa};
  entry.createShaderModule = (PFN_vkCreateShaderModule)gdpa(*out, "vkCreateShaderModule");
  entry.createComputePipelines = (PFN_vkCreateComputePipelines)gdpa(*out, "vkCreateComputePipelines");
  entry.createPipelineCache = (PFN_vkCreatePipelineCache)gdpa(*out, "vkCreatePipelineCache");
  entry.getPipelineCacheData = (PFN_vkGetPipelineCacheData)gdpa(*out, "vkGetPipelineCacheData");
  entry.destroyPipelineCache = (PFN_vkDestroyPipelineCache)gdpa(*out, "vkDestroyPipelineCache");
  entry.destroyPipeline = (PFN_vkDestroyPipeline)gdpa(*out, "vkDestroyPipeline");
  if (capture) {
    entry.properties = (PFN_vkGetPipelineExecutablePropertiesKHR)gdpa(*out, "vkGetPipelineExecutablePropertiesKHR");
    entry.statistics = (PFN_vkGetPipelineExecutableStatisticsKHR)gdpa(*out, "vkGetPipelineExecutableStatisticsKHR");
    entry.representations = (PFN_vkGetPipelineExecutableInternalRepresentationsKHR)gdpa(*out, "vkGetPipelineExecutableInternalRepresentationsKHR");
    entry.capture = entry.properties && entry.statistics;
  }
  pthread_mutex_lock(&lock);
  if (deviceCount < MAX_ENTRIES) devices[deviceCount++] = entry;
  pthread_mutex_unlock(&lock);
  return result;
}

// SPIR-V: a 5-word header, then instructions of (word count << 16 | opcode).
enum { OP_NAME = 5, OP_EXECUTION_MODE = 16, OP_FUNCTION = 54, MODE_LOCAL_SIZE = 17 };

static void describeModule(ModuleInfo *m, const uint32_t *code, size_t words) {
  m->words = (uint32_t)words;
  m->names[0] = 0;
  m->local[0] = m->local[1] = m->local[2] = 0;
  // Function result ids first, then the names given to them, in order.
  uint32_t bound = words > 3 ? code[3] : 0;
  unsigned char *isFunction = bound ? calloc(bound, 1) : NULL;
  for (int pass = 0; pass < 2 && isFunction; pass++) {
    for (size_t at = 5; at < words;) {
      uint32_t count = code[at] >> 16, op = code[at] & 0xffff;
      if (count == 0 || at + count > words) break;
      if (pass == 0 && op == OP_FUNCTION && count >= 3 && code[at + 2] < bound) isFunction[code[at + 2]] = 1;
      if (pass == 0 && op == OP_EXECUTION_MODE && count >= 6 && code[at + 2] == MODE_LOCAL_SIZE) memcpy(m->local, &code[at + 3], sizeof m->local);
      if (pass == 1 && op == OP_NAME && count >= 3 && code[at + 1] < bound && isFunction[code[at + 1]]) {
        const char *name = (const char *)&code[at + 2];
        size_t used = strlen(m->names), room = sizeof m->names - used - 1;
        if (room > 1 && strnlen(name, (count - 2) * 4) < room - 1) snprintf(m->names + used, room, "%s%s", used ? "," : "", name);
      }
      at += count;
    }
  }
  free(isFunction);
}

static VKAPI_ATTR VkResult VKAPI_CALL statsCreateShaderModule(VkDevice device, const VkShaderModuleCreateInfo *info, const VkAllocationCallbacks *alloc, VkShaderModule *out) {
  pthread_mutex_lock(&lock);
  DeviceEntry *de = findDevice(keyOf(device));
  PFN_vkCreateShaderModule create = de ? de->createShaderModule : NULL;
  pthread_mutex_unlock(&lock);
  if (!create) return VK_ERROR_INITIALIZATION_FAILED;
  VkResult result = create(device, info, alloc, out);
  if (result != VK_SUCCESS) return result;
  ModuleInfo m = {*out};
  describeModule(&m, info->pCode, info->codeSize / 4);
  if (getenv("TESSERA_STATS_DIR") && (m.code = malloc(info->codeSize))) memcpy(m.code, info->pCode, info->codeSize);
  pthread_mutex_lock(&lock);
  // A handle Vulkan hands out again after a destroy replaces the old entry.
  int slot = -1;
  for (int i = 0; i < moduleCount && slot < 0; i++)
    if (modules[i].module == *out) slot = i;
  if (slot < 0 && moduleCount < MAX_MODULES) slot = moduleCount++;
  if (slot >= 0) {
    free(modules[slot].code);
    modules[slot] = m;
  } else {
    free(m.code);
  }
  pthread_mutex_unlock(&lock);
  return result;
}

static void writeFile(const char *dir, const char *name, const void *data, size_t size) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fwrite(data, 1, size, f);
  fclose(f);
}

// Appends to a line of fixed room; past the room the rest is dropped (never written beyond it).
static void append(char *line, size_t room, size_t *at, const char *format, ...) __attribute__((format(printf, 4, 5)));
static void append(char *line, size_t room, size_t *at, const char *format, ...) {
  if (*at + 1 >= room) return;
  va_list args;
  va_start(args, format);
  int n = vsnprintf(line + *at, room - *at, format, args);
  va_end(args);
  if (n > 0) *at = *at + (size_t)n < room ? *at + (size_t)n : room - 1;
}

static void report(DeviceEntry *de, VkPipeline pipeline, const ModuleInfo *m, int number, const void *cacheData, size_t cacheBytes) {
  char line[4096];
  size_t at = 0;
  append(line, sizeof line, &at, "tessera-stats: pipeline %d [%s] local %ux%ux%u, %u SPIR-V words:", number, m ? m->names : "?", m ? m->local[0] : 0, m ? m->local[1] : 0, m ? m->local[2] : 0, m ? m->words : 0);
  const char *dir = getenv("TESSERA_STATS_DIR");
  if (dir && m && m->code) {
    char name[64];
    snprintf(name, sizeof name, "p%d.spv", number);
    writeFile(dir, name, m->code, (size_t)m->words * 4);
  }
  if (dir && cacheData) {
    char name[64];
    snprintf(name, sizeof name, "p%d-cache.bin", number);
    writeFile(dir, name, cacheData, cacheBytes);
  }
  VkPipelineInfoKHR info = {VK_STRUCTURE_TYPE_PIPELINE_INFO_KHR, NULL, pipeline};
  uint32_t executables = 0;
  if (de->properties(de->device, &info, &executables, NULL) != VK_SUCCESS) executables = 0;
  VkPipelineExecutablePropertiesKHR props[8];
  if (executables > 8) executables = 8;
  for (uint32_t e = 0; e < executables; e++) props[e] = (VkPipelineExecutablePropertiesKHR){VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_PROPERTIES_KHR};
  if (executables && de->properties(de->device, &info, &executables, props) < 0) executables = 0;
  for (uint32_t e = 0; e < executables; e++) {
    append(line, sizeof line, &at, "%s %s (subgroup %u):", e ? ";" : "", props[e].name, props[e].subgroupSize);
    VkPipelineExecutableInfoKHR exe = {VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_INFO_KHR, NULL, pipeline, e};
    uint32_t count = 0;
    if (de->statistics(de->device, &exe, &count, NULL) == VK_SUCCESS && count) {
      VkPipelineExecutableStatisticKHR *stats = calloc(count, sizeof *stats);
      for (uint32_t s = 0; stats && s < count; s++) stats[s].sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_STATISTIC_KHR;
      if (stats && de->statistics(de->device, &exe, &count, stats) >= 0) {
        for (uint32_t s = 0; s < count; s++) {
          const VkPipelineExecutableStatisticKHR *st = &stats[s];
          switch (st->format) {
            case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_BOOL32_KHR: append(line, sizeof line, &at, " %s=%s", st->name, st->value.b32 ? "true" : "false"); break;
            case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_INT64_KHR: append(line, sizeof line, &at, " %s=%lld", st->name, (long long)st->value.i64); break;
            case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_UINT64_KHR: append(line, sizeof line, &at, " %s=%llu", st->name, (unsigned long long)st->value.u64); break;
            default: append(line, sizeof line, &at, " %s=%g", st->name, st->value.f64); break;
          }
        }
      }
      free(stats);
    }
    // Internal representations (the driver's IR or disassembly, where it gives any) go to files.
    uint32_t irs = 0;
    if (dir && de->representations && de->representations(de->device, &exe, &irs, NULL) == VK_SUCCESS && irs) {
      VkPipelineExecutableInternalRepresentationKHR *rep = calloc(irs, sizeof *rep);
      for (uint32_t r = 0; rep && r < irs; r++) rep[r].sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_INTERNAL_REPRESENTATION_KHR;
      if (rep && de->representations(de->device, &exe, &irs, rep) >= 0) {
        for (uint32_t r = 0; r < irs; r++) rep[r].pData = rep[r].dataSize ? malloc(rep[r].dataSize) : NULL;
        if (de->representations(de->device, &exe, &irs, rep) >= 0) {
          for (uint32_t r = 0; r < irs; r++) {
            char name[64];
            snprintf(name, sizeof name, "p%d-e%u-i%u.%s", number, e, r, rep[r].isText ? "txt" : "bin");
            if (rep[r].pData) writeFile(dir, name, rep[r].pData, rep[r].dataSize);
            append(line, sizeof line, &at, " [ir %s: %zu bytes]", rep[r].name, (size_t)rep[r].dataSize);
          }
        }
        for (uint32_t r = 0; r < irs; r++) free(rep[r].pData);
      }
      free(rep);
    }
  }
  if (!executables) append(line, sizeof line, &at, " no executables reported");
  if (dir && cacheData) append(line, sizeof line, &at, " [pipeline cache: %zu bytes]", cacheBytes);
  fprintf(stderr, "%s\n", line);
}

static VKAPI_ATTR VkResult VKAPI_CALL statsCreateComputePipelines(VkDevice device, VkPipelineCache cache, uint32_t count, const VkComputePipelineCreateInfo *infos, const VkAllocationCallbacks *alloc, VkPipeline *out) {
  pthread_mutex_lock(&lock);
  DeviceEntry *de = findDevice(keyOf(device));
  DeviceEntry entry = de ? *de : (DeviceEntry){0};
  pthread_mutex_unlock(&lock);
  if (!entry.createComputePipelines) return VK_ERROR_INITIALIZATION_FAILED;
  if (!entry.capture) return entry.createComputePipelines(device, cache, count, infos, alloc, out);
  VkComputePipelineCreateInfo *changed = calloc(count, sizeof *changed);
  if (!changed) return VK_ERROR_OUT_OF_HOST_MEMORY;
  memcpy(changed, infos, count * sizeof *changed);
  VkPipelineCreateFlags flags = VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR;
  if (getenv("TESSERA_STATS_DIR")) flags |= VK_PIPELINE_CREATE_CAPTURE_INTERNAL_REPRESENTATIONS_BIT_KHR;
  for (uint32_t i = 0; i < count; i++) {
    changed[i].flags |= flags;
    // With VK_KHR_maintenance5's flags2 chained, the driver reads those and ignores .flags; the
    // capture bits have the same values there. Set in place: this layer's own diagnostic change to
    // the caller's struct, during the call that reads it.
    for (const VkBaseInStructure *s = infos[i].pNext; s; s = s->pNext)
      if ((uint32_t)s->sType == STRUCTURE_TYPE_PIPELINE_CREATE_FLAGS_2_CREATE_INFO) ((PipelineCreateFlags2Info *)s)->flags |= flags;
  }
  // TESSERA_STATS_CACHE: each pipeline alone into a fresh cache of the layer's (in place of the
  // caller's), so that cache's data holds that pipeline's binary only. (Dawn creates one a call; a
  // batch deriving pipelines from each other by index would not survive being split.)
  int dumpCache = getenv("TESSERA_STATS_DIR") && getenv("TESSERA_STATS_CACHE") && entry.createPipelineCache &&
                  entry.getPipelineCacheData && entry.destroyPipelineCache && entry.destroyPipeline;
  void **blobs = dumpCache ? calloc(count, sizeof *blobs) : NULL;
  size_t *sizes = dumpCache ? calloc(count, sizeof *sizes) : NULL;
  VkResult result = VK_SUCCESS;
  if (blobs && sizes) {
    for (uint32_t i = 0; i < count && result == VK_SUCCESS; i++) {
      VkPipelineCacheCreateInfo ci = {VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
      VkPipelineCache own = VK_NULL_HANDLE;
      int haveOwn = entry.createPipelineCache(device, &ci, NULL, &own) == VK_SUCCESS;
      result = entry.createComputePipelines(device, haveOwn ? own : cache, 1, &changed[i], alloc, &out[i]);
      size_t size = 0;
      if (haveOwn && result == VK_SUCCESS && entry.getPipelineCacheData(device, own, &size, NULL) == VK_SUCCESS && size && (blobs[i] = malloc(size))) {
        if (entry.getPipelineCacheData(device, own, &size, blobs[i]) == VK_SUCCESS) sizes[i] = size;
        else { free(blobs[i]); blobs[i] = NULL; }
      }
      if (haveOwn) entry.destroyPipelineCache(device, own, NULL);
      if (result != VK_SUCCESS) {
        // One call's failure is all of its pipelines': those made before it go, every handle null.
        for (uint32_t j = 0; j < count; j++) {
          if (j < i) entry.destroyPipeline(device, out[j], alloc);
          out[j] = VK_NULL_HANDLE;
        }
      }
    }
  } else {
    result = entry.createComputePipelines(device, cache, count, changed, alloc, out);
  }
  free(changed);
  if (result != VK_SUCCESS) {
    for (uint32_t i = 0; blobs && i < count; i++) free(blobs[i]);
    free(blobs);
    free(sizes);
    return result;
  }
  for (uint32_t i = 0; i < count; i++) {
    pthread_mutex_lock(&lock);
    int number = ++pipelineCount;
    ModuleInfo m = {0}, *found = NULL;
    for (int j = 0; j < moduleCount && !found; j++)
      if (modules[j].module == infos[i].stage.module) found = &modules[j];
    if (found) {
      // Its own copy of the SPIR-V: another thread may replace the module's entry meanwhile.
      m = *found;
      m.code = found->code ? malloc((size_t)found->words * 4) : NULL;
      if (m.code) memcpy(m.code, found->code, (size_t)found->words * 4);
    }
    pthread_mutex_unlock(&lock);
    // No module (VK_KHR_maintenance5): the SPIR-V comes chained to the stage instead.
    for (const VkBaseInStructure *s = infos[i].stage.pNext; !found && infos[i].stage.module == VK_NULL_HANDLE && s; s = s->pNext) {
      if (s->sType != VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO) continue;
      const VkShaderModuleCreateInfo *inline_ = (const VkShaderModuleCreateInfo *)s;
      describeModule(&m, inline_->pCode, inline_->codeSize / 4);
      if (getenv("TESSERA_STATS_DIR") && (m.code = malloc(inline_->codeSize))) memcpy(m.code, inline_->pCode, inline_->codeSize);
      found = &m;
    }
    report(&entry, out[i], found ? &m : NULL, number, blobs ? blobs[i] : NULL, sizes ? sizes[i] : 0);
    free(m.code);
    if (blobs) free(blobs[i]);
  }
  free(blobs);
  free(sizes);
  return result;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL statsGetDeviceProcAddr(VkDevice device, const char *name);

static PFN_vkVoidFunction intercepted(const char *name) {
  if (!strcmp(name, "vkCreateShaderModule")) return (PFN_vkVoidFunction)statsCreateShaderModule;
  if (!strcmp(name, "vkCreateComputePipelines")) return (PFN_vkVoidFunction)statsCreateComputePipelines;
  if (!strcmp(name, "vkGetDeviceProcAddr")) return (PFN_vkVoidFunction)statsGetDeviceProcAddr;
  return NULL;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL statsGetDeviceProcAddr(VkDevice device, const char *name) {
  PFN_vkVoidFunction own = intercepted(name);
  if (own) return own;
  pthread_mutex_lock(&lock);
  DeviceEntry *de = findDevice(keyOf(device));
  PFN_vkGetDeviceProcAddr next = de ? de->next : NULL;
  pthread_mutex_unlock(&lock);
  return next ? next(device, name) : NULL;
}

static VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL statsGetInstanceProcAddr(VkInstance instance, const char *name) {
  if (!strcmp(name, "vkCreateInstance")) return (PFN_vkVoidFunction)statsCreateInstance;
  if (!strcmp(name, "vkCreateDevice")) return (PFN_vkVoidFunction)statsCreateDevice;
  if (!strcmp(name, "vkGetInstanceProcAddr")) return (PFN_vkVoidFunction)statsGetInstanceProcAddr;
  PFN_vkVoidFunction own = intercepted(name);
  if (own) return own;
  if (!instance) return NULL;
  pthread_mutex_lock(&lock);
  InstanceEntry *ie = findInstance(keyOf(instance));
  PFN_vkGetInstanceProcAddr next = ie ? ie->next : NULL;
  pthread_mutex_unlock(&lock);
  return next ? next(instance, name) : NULL;
}

LAYER_NEGOTIATE(statsGetInstanceProcAddr, statsGetDeviceProcAddr)
