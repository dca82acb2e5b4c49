# mmpool_cookbook_snippets(DOC OUTDIR NAMES_VAR): extracts the tested
# snippets of a Markdown file at configure time.
#
# A tested snippet is a fenced block of C, C++ or Python right under a
# marker line, followed (before the next marker or heading) by a ```text
# block with exactly what the program prints:
#
#   <!-- cookbook: py_copy -->
#   ```python
#   ...
#   ```
#   It prints:
#   ```text
#   ...
#   ```
#
# For each, OUTDIR/NAME.{c,cpp,py} gets the code and OUTDIR/NAME.out the
# expected output (rewritten only when they change, so an edit of the prose
# rebuilds nothing). NAMES_VAR receives the names, and NAME_lang for each
# name the language (c, cpp or python). A code block of those languages
# without a marker, a marker without its code or output, or a name used
# twice fails the configuration: no code in the document goes untested.
# Editing the document re-runs the configuration.
function(mmpool_cookbook_snippets doc outdir names_var)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${doc})
  file(READ ${doc} text)
  get_filename_component(doc_name ${doc} NAME)
  set(marker "<!-- cookbook: ")
  set(names "")
  set(fences_seen 0)

  # Every fenced block of a tested language must carry a marker.
  foreach(lang c cpp python)
    string(REGEX MATCHALL "\n```${lang}\n" fences "\n${text}")
    list(LENGTH fences n)
    math(EXPR fences_seen "${fences_seen} + ${n}")
  endforeach()

  set(rest "${text}")
  while(TRUE)
    string(FIND "${rest}" "${marker}" at)
    if(at EQUAL -1)
      break()
    endif()
    string(LENGTH "${marker}" skip)
    math(EXPR at "${at} + ${skip}")
    string(SUBSTRING "${rest}" ${at} -1 rest)
    string(FIND "${rest}" " -->\n" end)
    string(SUBSTRING "${rest}" 0 ${end} name)
    if(NOT name MATCHES "^[a-z0-9_]+$")
      message(FATAL_ERROR "${doc_name}: bad snippet name '${name}'")
    endif()
    if(name IN_LIST names)
      message(FATAL_ERROR "${doc_name}: snippet name '${name}' used twice")
    endif()
    math(EXPR end "${end} + 5")
    string(SUBSTRING "${rest}" ${end} -1 rest)

    # The code: the fence must open on the line right under the marker.
    if(NOT rest MATCHES "^```(c|cpp|python)\n")
      message(FATAL_ERROR "${doc_name}: snippet '${name}': no ```c, ```cpp or ```python block "
                          "on the line under its marker")
    endif()
    set(lang ${CMAKE_MATCH_1})
    string(LENGTH "```${lang}\n" skip)
    string(SUBSTRING "${rest}" ${skip} -1 rest)
    string(FIND "${rest}" "\n```\n" close)
    if(close EQUAL -1)
      message(FATAL_ERROR "${doc_name}: snippet '${name}': code block not closed")
    endif()
    math(EXPR close "${close} + 1")
    string(SUBSTRING "${rest}" 0 ${close} code)
    math(EXPR close "${close} + 4")
    string(SUBSTRING "${rest}" ${close} -1 rest)

    # The output: the first ```text block before the next marker or heading.
    set(scope "${rest}")
    foreach(stop "${marker}" "\n#")
      string(FIND "${scope}" "${stop}" cut)
      if(NOT cut EQUAL -1)
        string(SUBSTRING "${scope}" 0 ${cut} scope)
      endif()
    endforeach()
    string(FIND "${scope}" "```text\n" open)
    if(open EQUAL -1)
      message(FATAL_ERROR "${doc_name}: snippet '${name}': no ```text block with its output")
    endif()
    math(EXPR open "${open} + 8")
    string(SUBSTRING "${scope}" ${open} -1 scope)
    string(FIND "${scope}" "\n```" close)
    if(close EQUAL -1)
      message(FATAL_ERROR "${doc_name}: snippet '${name}': output block not closed")
    endif()
    math(EXPR close "${close} + 1")
    string(SUBSTRING "${scope}" 0 ${close} output)

    if(lang STREQUAL "python")
      set(ext py)
    else()
      set(ext ${lang})
    endif()
    mmpool_cookbook_write(${outdir}/${name}.${ext} "${code}")
    mmpool_cookbook_write(${outdir}/${name}.out "${output}")
    list(APPEND names ${name})
    set(${name}_lang ${lang} PARENT_SCOPE)
  endwhile()

  list(LENGTH names n)
  if(NOT n EQUAL fences_seen)
    message(FATAL_ERROR "${doc_name}: ${fences_seen} code blocks in C, C++ or Python but "
                        "${n} tested snippets: every such block needs a '${marker}NAME -->' line")
  endif()
  set(${names_var} ${names} PARENT_SCOPE)
endfunction()

# Writes content to path unless the file already holds exactly that.
function(mmpool_cookbook_write path content)
  if(EXISTS ${path})
    file(READ ${path} old)
    if(old STREQUAL content)
      return()
    endif()
  endif()
  file(WRITE ${path} "${content}")
endfunction()
